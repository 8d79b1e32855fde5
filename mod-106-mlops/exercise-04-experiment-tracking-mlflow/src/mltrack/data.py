"""The bundled data set: scikit-learn's Wisconsin breast cancer table (569 rows, 30 features).

It ships inside scikit-learn, so training works offline. The split is fixed (seeded and
stratified) so that every run, and every promotion, sees the same train/validation/held-out
rows: metrics of different versions are comparable only on the same held-out set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

TARGET = "target"
SOURCE = "sklearn.datasets.load_breast_cancer"
SPLIT_SEED = 42


@dataclass(frozen=True)
class Split:
    """One part of the data: features and labels."""

    name: str
    features: pd.DataFrame
    labels: pd.Series

    def frame(self) -> pd.DataFrame:
        """Features and target together (what `mlflow.data` digests)."""
        return self.features.assign(**{TARGET: self.labels.to_numpy()})


@dataclass(frozen=True)
class Dataset:
    train: Split
    validation: Split
    holdout: Split

    @property
    def feature_names(self) -> list[str]:
        return list(self.train.features.columns)


def load_dataset(drop_features: Sequence[str] = ()) -> Dataset:
    """Load and split the bundled data; `drop_features` removes columns (an ablation)."""
    bunch = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = bunch.frame
    unknown = sorted(set(drop_features) - set(frame.columns) | ({TARGET} & set(drop_features)))
    if unknown:
        raise ValueError(f"unknown feature(s) to drop: {', '.join(unknown)}")
    features = frame.drop(columns=[TARGET, *drop_features])
    labels = frame[TARGET]
    x_rest, x_hold, y_rest, y_hold = train_test_split(
        features, labels, test_size=0.2, random_state=SPLIT_SEED, stratify=labels
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.25, random_state=SPLIT_SEED, stratify=y_rest
    )
    return Dataset(
        train=Split("train", x_train, y_train),
        validation=Split("validation", x_val, y_val),
        holdout=Split("holdout", x_hold, y_hold),
    )
