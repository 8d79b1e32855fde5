"""Feature engineering, one hyperparameter trial, evaluation: plain functions over files.

Each step reads and writes files under the run directory and returns a small JSON-able dict,
so the same code runs inside a PythonOperator (XCom carries the dicts) or inside a pod
(`mlworkflows train-trial`, XCom through /airflow/xcom/return.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from aiinfra_shared.io import atomic_write_bytes, atomic_write_json
from sklearn.base import ClassifierMixin
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlworkflows.data import TARGET
from mlworkflows.model_config import ModelConfig

DERIVED = {
    "area_per_perimeter": ("mean_area", "mean_perimeter"),
    "worst_to_mean_radius": ("worst_radius", "mean_radius"),
}


def engineer(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ratio features (domain ratios are more stable across scanners than raw sizes)."""
    out = frame.copy()
    for name, (num, den) in DERIVED.items():
        out[name] = out[num] / out[den].replace(0, np.nan)
    return out.fillna(0.0)


def prepare_features(data_path: Path, out_dir: Path, test_size: float, seed: int) -> dict[str, Any]:
    """Split once per run so every trial and the production model see the same holdout."""
    frame = engineer(pd.read_csv(data_path))
    train, test = train_test_split(frame, test_size=test_size, random_state=seed,
                                   stratify=frame[TARGET])
    out_dir.mkdir(parents=True, exist_ok=True)
    train_path, test_path = out_dir / "train.csv", out_dir / "test.csv"
    train.to_csv(train_path, index=False)
    test.to_csv(test_path, index=False)
    return {"train_path": str(train_path), "test_path": str(test_path),
            "train_rows": len(train), "test_rows": len(test),
            "features": [c for c in frame.columns if c != TARGET]}


def build_estimator(model_type: str, params: dict[str, Any], seed: int) -> Pipeline:
    clean = {k: v for k, v in params.items() if v is not None}
    for key in ("n_estimators", "max_depth", "min_samples_leaf", "max_iter"):
        if key in clean:
            clean[key] = int(clean[key])
    model: ClassifierMixin
    if model_type == "logistic_regression":
        model = LogisticRegression(random_state=seed, **clean)
    elif model_type == "random_forest":
        model = RandomForestClassifier(random_state=seed, n_jobs=1, **clean)
    elif model_type == "gradient_boosting":
        model = GradientBoostingClassifier(random_state=seed, **clean)
    else:
        raise ValueError(f"unknown model_type {model_type!r}")
    return Pipeline([("scale", StandardScaler()), ("model", model)])


def evaluate_model(model: Any, test_path: Path) -> dict[str, float]:
    test = pd.read_csv(test_path)
    x, y = test.drop(columns=[TARGET]), test[TARGET]
    predicted = model.predict(x)
    scores = model.predict_proba(x)[:, 1]
    return {"accuracy": round(float(accuracy_score(y, predicted)), 6),
            "f1": round(float(f1_score(y, predicted)), 6),
            "roc_auc": round(float(roc_auc_score(y, scores)), 6)}


def run_trial(config: ModelConfig, index: int, params: dict[str, Any], features: dict[str, Any],
              out_dir: Path) -> dict[str, Any]:
    """Fit one trial on the train split, score it on the holdout, save the model file."""
    train = pd.read_csv(features["train_path"])
    model = build_estimator(config.model_type, params, config.seed)
    model.fit(train.drop(columns=[TARGET]), train[TARGET])
    metrics = evaluate_model(model, Path(features["test_path"]))
    model_path = out_dir / f"trial_{index}.joblib"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".trial_{index}.joblib.tmp"
    joblib.dump(model, tmp)
    atomic_write_bytes(model_path, tmp.read_bytes())
    tmp.unlink()
    result = {"trial": index, "params": params, "metrics": metrics, "model_path": str(model_path)}
    atomic_write_json(out_dir / f"trial_{index}.json", result)
    return result


def select_best(results: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """Highest primary metric wins; ties go to the earlier (usually simpler) trial."""
    if not results:
        raise ValueError("no trial results to choose from")
    return max(results, key=lambda r: (r["metrics"][metric], -int(r["trial"])))


def load_result(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
