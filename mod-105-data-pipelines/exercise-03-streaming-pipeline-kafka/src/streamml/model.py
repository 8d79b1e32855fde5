"""The model: next-window purchase propensity from a user's window features.

Training data is the Parquet the Spark job wrote (one row per user and window); the label of a
window is whether the user's NEXT window had a purchase, so the model learns to anticipate,
not to restate, what it is shown. Pure functions over pandas, plus a small model store
(joblib + a JSON card, both written atomically).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from aiinfra_shared.io import atomic_write_bytes, atomic_write_json
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from streamml.errors import ModelNotFoundError, NotEnoughDataError
from streamml.spark.features import FEATURE_COLUMNS


@dataclass(frozen=True)
class ModelCard:
    version: str
    rows: int
    positives: int
    features: list[str]
    auc: float | None


def training_frame(features: pd.DataFrame) -> pd.DataFrame:
    """Features with a `label`: did the user's next window (by window_end) have a purchase?

    A user's last window has no next window yet and is left out.
    """
    # BEGIN SOLUTION
    frame = features.sort_values(["user_id", "window_end"]).reset_index(drop=True)
    frame = frame.drop_duplicates(["user_id", "window_end"], keep="last")
    nxt = frame.groupby("user_id")["n_purchases"].shift(-1)
    frame = frame.assign(label=(nxt > 0).astype("int64"))
    return frame[nxt.notna()].reset_index(drop=True)
    # END SOLUTION


def train(features: pd.DataFrame, seed: int = 0) -> tuple[Pipeline, ModelCard]:
    """Fit scaler + logistic regression; AUC on a held-out 25% when both classes are there."""
    data = training_frame(features)
    if len(data) < 10 or data["label"].nunique() < 2:
        raise NotEnoughDataError(f"need at least 10 labelled windows with both classes to train, "
                            f"got {len(data)} ({int(data['label'].sum()) if len(data) else 0}"
                            " positive)")
    x, y = data[FEATURE_COLUMNS].to_numpy(float), data["label"].to_numpy(int)
    rng = np.random.default_rng(seed)
    test = rng.random(len(data)) < 0.25
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    auc = None
    if test.sum() >= 4 and len(set(y[test])) == 2 and len(set(y[~test])) == 2:
        model.fit(x[~test], y[~test])
        auc = round(float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])), 4)
    model.fit(x, y)
    digest = hashlib.sha256(pd.util.hash_pandas_object(
        data[["user_id", "window_end", *FEATURE_COLUMNS]], index=False).values.tobytes())
    card = ModelCard(version=digest.hexdigest()[:12], rows=len(data),
                     positives=int(y.sum()), features=list(FEATURE_COLUMNS), auc=auc)
    return model, card


def feature_vector(row: dict[str, Any] | None) -> list[float]:
    """The model's inputs for one user (zeros when the user has no window yet)."""
    if row is None:
        return [0.0] * len(FEATURE_COLUMNS)
    return [float(row[c]) for c in FEATURE_COLUMNS]


def save(model: Pipeline, card: ModelCard, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    atomic_write_json(path.with_suffix(".json"), asdict(card))


def load(path: Path) -> tuple[Pipeline, ModelCard]:
    if not path.exists():
        raise ModelNotFoundError(f"no model at {path} (run `streamml train` first)")
    card = ModelCard(**json.loads(path.with_suffix(".json").read_text()))
    return joblib.load(path), card
