"""Pure metric helpers shared by training, promotion and the benchmark."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score


def to_labels(output: Any) -> np.ndarray:
    """Turn what a pyfunc model returns into class labels.

    scikit-learn models return labels; the PyTorch model returns one logit per class, so a
    2-D output is reduced with argmax. A 1-D float output is treated as P(class 1).
    """
    # BEGIN SOLUTION: argmax 2-D logits, threshold 1-D floats, else int labels
    array = output.to_numpy() if isinstance(output, pd.DataFrame | pd.Series) else output
    array = np.asarray(array)
    if array.ndim == 2 and array.shape[1] > 1:
        return np.asarray(array.argmax(axis=1), dtype=np.int64)
    array = array.reshape(-1)
    if np.issubdtype(array.dtype, np.floating):
        return (array >= 0.5).astype(np.int64)
    return array.astype(np.int64)
    # END SOLUTION


def classification_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """accuracy, f1, precision and recall of binary predictions."""
    true = np.asarray(y_true).astype(np.int64)
    pred = np.asarray(y_pred).astype(np.int64)
    return {
        "accuracy": float(accuracy_score(true, pred)),
        "f1": float(f1_score(true, pred, zero_division=0)),
        "precision": float(precision_score(true, pred, zero_division=0)),
        "recall": float(recall_score(true, pred, zero_division=0)),
    }


def confusion_counts(y_true: Any, y_pred: Any, n_classes: int = 2) -> np.ndarray:
    """Confusion matrix as counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    for true, pred in zip(np.asarray(y_true), np.asarray(y_pred), strict=True):
        matrix[int(true), int(pred)] += 1
    return matrix


def permutation_importance(
    predict: Callable[[pd.DataFrame], np.ndarray],
    features: pd.DataFrame,
    labels: Any,
    seed: int = 0,
) -> dict[str, float]:
    """Accuracy drop when one column is shuffled: model-agnostic feature importance."""
    # BEGIN SOLUTION: accuracy drop when each column is shuffled
    rng = np.random.default_rng(seed)
    truth = np.asarray(labels)
    baseline = float(np.mean(predict(features) == truth))
    importance: dict[str, float] = {}
    for column in features.columns:
        shuffled = features.copy()
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
        importance[str(column)] = baseline - float(np.mean(predict(shuffled) == truth))
    return importance
    # END SOLUTION


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a real observed latency)."""
    # BEGIN SOLUTION: nearest-rank percentile, ValueError when empty
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, int(np.ceil(pct / 100.0 * len(ordered))))
    return ordered[rank - 1]
    # END SOLUTION


def measure_latency_ms(predict: Callable[[pd.DataFrame], Any], rows: pd.DataFrame,
                       samples: int) -> dict[str, float]:
    """Single-row predict latency over `samples` calls (after one warm-up call)."""
    predict(rows.iloc[[0]])
    timings: list[float] = []
    for index in range(samples):
        row = rows.iloc[[index % len(rows)]]
        start = time.perf_counter()
        predict(row)
        timings.append((time.perf_counter() - start) * 1000.0)
    return {"p50_ms": percentile(timings, 50), "p95_ms": percentile(timings, 95),
            "max_ms": max(timings)}
