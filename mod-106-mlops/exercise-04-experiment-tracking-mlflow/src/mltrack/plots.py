"""Matplotlib figures logged as run artifacts and embedded in the HTML report."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def confusion_matrix_figure(matrix: np.ndarray, labels: Sequence[str]) -> Figure:
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (row, col), value in np.ndenumerate(matrix):
        ax.text(col, row, str(value), ha="center", va="center",
                color="white" if value > matrix.max() / 2 else "black")
    ax.set_title("confusion matrix (validation)")
    fig.tight_layout()
    return fig


def feature_importance_figure(importance: Mapping[str, float], top: int = 15) -> Figure:
    items = sorted(importance.items(), key=lambda kv: abs(kv[1]), reverse=True)[:top]
    names = [name for name, _ in reversed(items)]
    values = [value for _, value in reversed(items)]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(items) + 1.2))
    ax.barh(names, values, color="#4c72b0")
    ax.set_xlabel("importance")
    ax.set_title(f"top {len(items)} features")
    fig.tight_layout()
    return fig


def bar_figure(labels: Sequence[str], values: Sequence[float], title: str) -> Figure:
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(labels) + 2), 3.5))
    ax.bar(range(len(labels)), values, color="#55a868")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def lines_figure(series: Mapping[str, tuple[Sequence[int], Sequence[float]]],
                 title: str, ylabel: str) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, (steps, values) in series.items():
        ax.plot(steps, values, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if series:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def to_png_base64(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()
