"""The bundled dataset (scikit-learn's breast-cancer data, shipped inside the wheel: offline).

Column names are snake_cased so they are valid in schemas, CSV headers and pod arguments.
`make_batch` draws a reproducible sample, optionally shifted (to demonstrate drift) or without
labels (a scoring batch).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from aiinfra_shared.io import atomic_write_text
from sklearn.datasets import load_breast_cancer

TARGET = "target"


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@lru_cache(maxsize=1)
def _full() -> pd.DataFrame:
    bunch = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = bunch.frame.copy()
    frame.columns = [_snake(str(c)) for c in frame.columns]
    return frame


def feature_columns() -> list[str]:
    return [c for c in _full().columns if c != TARGET]


def make_batch(rows: int | None = None, seed: int = 0, shift: float = 0.0,
               labelled: bool = True) -> pd.DataFrame:
    """A sample of the bundled data; `shift` scales features by (1 + shift) to simulate drift."""
    frame = _full()
    if rows is not None and rows < len(frame):
        frame = frame.sample(n=rows, random_state=seed)
    frame = frame.reset_index(drop=True).copy()
    if shift:
        features = feature_columns()
        frame[features] = frame[features] * (1.0 + shift)
    if not labelled:
        frame = frame.drop(columns=[TARGET])
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Atomic, so a sensor never sees half a file."""
    atomic_write_text(path, frame.to_csv(index=False))
    return path


def corrupt_batch(seed: int = 0) -> pd.DataFrame:
    """A batch that violates the schema: negative radius, NaNs, an unknown label."""
    frame = make_batch(rows=120, seed=seed)
    frame.loc[3, "mean_radius"] = -4.0
    frame.loc[7, "mean_texture"] = np.nan
    frame.loc[11, TARGET] = 7
    return frame
