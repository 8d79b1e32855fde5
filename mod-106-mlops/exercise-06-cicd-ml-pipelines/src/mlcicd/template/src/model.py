"""The model: built from params.yaml, shared by train.py and the model tests."""

from typing import Any

from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES_EXCLUDED = ("id", "target")


def feature_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c not in FEATURES_EXCLUDED]


def build(params: dict[str, Any]) -> Pipeline:
    if params["model"] == "logistic":
        estimator: Any = LogisticRegression(C=params["C"], max_iter=params["max_iter"],
                                            random_state=params["seed"])
    elif params["model"] == "forest":
        estimator = RandomForestClassifier(n_estimators=params.get("n_estimators", 50),
                                           max_depth=params.get("max_depth"),
                                           random_state=params["seed"])
    else:
        raise ValueError(f"unknown model {params['model']!r}")
    return make_pipeline(StandardScaler(), estimator)
