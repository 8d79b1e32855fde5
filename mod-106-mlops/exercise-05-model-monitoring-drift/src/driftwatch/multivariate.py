"""Multivariate drift: changes no single column shows (a correlation that flips, say).

Two detectors, as in Alibi Detect: a domain classifier (can a model tell reference rows
from window rows? cross-validated ROC AUC ~0.5 means no; its feature importances say
where to look) and the maximum mean discrepancy with a permutation test (kernel two-sample
test, RBF kernel at the median-distance bandwidth).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from driftwatch.reference import ReferenceProfile


def encode(frame: pd.DataFrame, profile: ReferenceProfile) -> tuple[np.ndarray, list[str]]:
    """Numerical columns standardised on the reference (NaN -> 0), categoricals one-hot."""
    contract = profile.contract
    columns: list[np.ndarray] = []
    names: list[str] = []
    for column in contract.numerical:
        stats = profile.numerical[column]
        scaled = (frame[column].to_numpy(dtype=float) - stats.mean) / (stats.std or 1.0)
        columns.append(np.nan_to_num(scaled, nan=0.0))
        names.append(column)
    for column in contract.categorical:
        values = frame[column].astype(str).to_numpy()
        for category in sorted(profile.categorical[column]):
            columns.append((values == category).astype(float))
            names.append(f"{column}={category}")
    return np.column_stack(columns), names


def _subsample(x: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return x if len(x) <= limit else x[rng.choice(len(x), limit, replace=False)]


@dataclass(frozen=True)
class DomainClassifierResult:
    auc: float
    drifted: bool
    top_features: list[tuple[str, float]] = field(default_factory=list)


def domain_classifier(reference: np.ndarray, current: np.ndarray, names: list[str],
                      auc_threshold: float = 0.55, max_rows: int = 1500, folds: int = 3,
                      seed: int = 0) -> DomainClassifierResult:
    """Out-of-fold ROC AUC of a random forest separating reference from current rows."""
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    ref = _subsample(reference, max_rows, rng)
    cur = _subsample(current, max_rows, rng)
    x = np.vstack([ref, cur])
    y = np.concatenate([np.zeros(len(ref)), np.ones(len(cur))])
    scores = np.zeros(len(y))
    importances = np.zeros(x.shape[1])
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = RandomForestClassifier(n_estimators=60, max_depth=6, min_samples_leaf=5,
                                       n_jobs=1, random_state=seed)
        model.fit(x[train], y[train])
        scores[test] = model.predict_proba(x[test])[:, 1]
        importances += model.feature_importances_ / folds
    auc = float(roc_auc_score(y, scores))
    order = np.argsort(importances)[::-1][:3]
    top = [(names[i], round(float(importances[i]), 4)) for i in order]
    return DomainClassifierResult(auc, auc >= auc_threshold, top)
    # END SOLUTION


@dataclass(frozen=True)
class MMDResult:
    mmd2: float
    p_value: float
    drifted: bool


def mmd_test(reference: np.ndarray, current: np.ndarray, permutations: int = 200,
             alpha: float = 0.05, max_rows: int = 400, seed: int = 0) -> MMDResult:
    """Biased (V-statistic) MMD^2 with a vectorised permutation null.

    With s a +1/n, -1/m sign vector, MMD^2 = s' K s; all permutations at once are the
    column sums of S * (K S) for the matrix S of permuted sign vectors.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    ref = _subsample(reference, max_rows, rng)
    cur = _subsample(current, max_rows, rng)
    x = np.vstack([ref, cur])
    n, m = len(ref), len(cur)
    sq = np.sum(x * x, axis=1)
    dist2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    bandwidth = float(np.median(dist2[np.triu_indices(len(x), 1)])) or 1.0
    kernel = np.exp(-dist2 / bandwidth)
    signs = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
    observed = float(signs @ kernel @ signs)
    perms = np.stack([rng.permutation(signs) for _ in range(permutations)], axis=1)
    null = np.sum(perms * (kernel @ perms), axis=0)
    p_value = float((1 + np.sum(null >= observed)) / (permutations + 1))
    return MMDResult(observed, p_value, p_value < alpha)
    # END SOLUTION
