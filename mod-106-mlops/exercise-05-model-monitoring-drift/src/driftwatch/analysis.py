"""One window against the reference: own drift statistics, multivariate drift, performance.

Pure computation on frames already validated and windowed; the result is a plain record
(`WindowResult`) that the store writes, the metrics module pushes and the policy judges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftwatch import stats
from driftwatch.multivariate import domain_classifier, encode, mmd_test
from driftwatch.performance import cbpe, realized_metrics
from driftwatch.reference import ReferenceProfile
from driftwatch.windows import Window

STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient data"


@dataclass(frozen=True)
class AnalysisOptions:
    """How a window is judged (from `Settings`)."""

    min_rows: int = 300
    numerical_method: str = "ks"
    categorical_method: str = "chisquare"
    per_column_method: Mapping[str, str] = field(default_factory=dict)
    thresholds: stats.DriftThresholds = field(default_factory=stats.DriftThresholds)
    min_label_coverage: float = 0.3
    min_labels: int = 100
    multivariate: bool = True
    auc_threshold: float = 0.55
    mmd_permutations: int = 200
    seed: int = 0

    def method_for(self, column: str, categorical: bool) -> str:
        method = self.per_column_method.get(column)
        if method is None:
            return self.categorical_method if categorical else self.numerical_method
        return method


@dataclass
class WindowResult:
    """Everything driftwatch concluded about one window."""

    model: str
    version: str
    window_id: str
    start: str
    end: str
    rows: int
    status: str
    reference_hash: str
    as_of: str
    columns: list[dict[str, Any]] = field(default_factory=list)
    drifted_columns: list[str] = field(default_factory=list)
    drifted_share: float | None = None
    missing_share: dict[str, float] = field(default_factory=dict)
    domain_classifier: dict[str, Any] | None = None
    mmd: dict[str, Any] | None = None
    labelled: int = 0
    label_coverage: float = 0.0
    matured: bool = False
    realized: dict[str, float] | None = None
    estimated: dict[str, float] | None = None
    reference_performance: dict[str, float] = field(default_factory=dict)
    evidently: dict[str, Any] | None = None

    @property
    def sufficient(self) -> bool:
        return self.status == STATUS_OK

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowResult:
        return cls(**dict(data))


def column_scores(window: pd.DataFrame, profile: ReferenceProfile,
                  options: AnalysisOptions) -> list[stats.RawScore]:
    """The raw score of every feature column (and the probability: prediction drift)."""
    # BEGIN SOLUTION
    contract = profile.contract
    scores: list[stats.RawScore] = []
    for column in (*contract.numerical, contract.probability):
        method = options.method_for(column, categorical=False)
        values = window[column].to_numpy(dtype=float)
        ref_sorted = profile.sorted_values(column)
        numeric = profile.numerical[column]
        if method == "ks":
            d, p = stats.ks_2samp(ref_sorted, values)
            scores.append(stats.RawScore(column, method, d, p, d))
        elif method == "psi":
            edges = np.asarray(numeric.edges)
            value = stats.psi(np.asarray(numeric.shares), stats.bin_shares(values, edges))
            scores.append(stats.RawScore(column, method, value, None, value))
        elif method == "wasserstein":
            value = stats.wasserstein_normed(ref_sorted, values, numeric.std)
            scores.append(stats.RawScore(column, method, value, None, value))
        elif method == "jensenshannon":
            edges = np.asarray(numeric.edges)
            value = stats.jensen_shannon(np.asarray(numeric.shares),
                                         stats.bin_shares(values, edges))
            scores.append(stats.RawScore(column, method, value, None, value))
        else:
            raise ValueError(f"{column}: method {method!r} does not apply to numerical data")
    for column in contract.categorical:
        method = options.method_for(column, categorical=True)
        ref_shares = profile.categorical[column]
        counts = window[column].astype(str).value_counts().to_dict()
        if method == "chisquare":
            ref_counts = {k: v * len(profile.data) for k, v in ref_shares.items()}
            statistic, p, w = stats.chi_square(ref_counts, counts)
            scores.append(stats.RawScore(column, method, statistic, p, w))
        elif method in ("jensenshannon", "psi"):
            categories = sorted(set(ref_shares) | set(counts))
            total = max(sum(counts.values()), 1)
            r = np.array([ref_shares.get(c, 0.0) for c in categories])
            c = np.array([counts.get(k, 0) / total for k in categories])
            value = stats.jensen_shannon(r, c) if method == "jensenshannon" else stats.psi(r, c)
            scores.append(stats.RawScore(column, method, value, None, value))
        else:
            raise ValueError(f"{column}: method {method!r} does not apply to categorical data")
    return scores
    # END SOLUTION


def analyse(window: Window, profile: ReferenceProfile, options: AnalysisOptions,
            model: str, version: str, as_of: pd.Timestamp) -> WindowResult:
    """Judge one window. Too few rows -> status "insufficient data" and no verdict at all."""
    contract = profile.contract
    result = WindowResult(
        model=model, version=version, window_id=window.id, start=window.start.isoformat(),
        end=window.end.isoformat(), rows=window.rows, status=STATUS_OK,
        reference_hash=profile.content_hash, as_of=pd.Timestamp(as_of).isoformat(),
        labelled=window.labelled, label_coverage=round(window.coverage, 6),
        matured=window.matured, reference_performance=dict(profile.performance))
    if window.rows < options.min_rows:
        result.status = STATUS_INSUFFICIENT
        return result
    frame = window.frame
    decided = stats.decide_columns(column_scores(frame, profile, options), options.thresholds)
    result.columns = [c.as_dict() for c in decided]
    features = set(contract.features)
    result.drifted_columns = [c.column for c in decided if c.drifted and c.column in features]
    result.drifted_share = len(result.drifted_columns) / len(contract.features)
    result.missing_share = {c: round(float(frame[c].isna().mean()), 6)
                            for c in contract.features}
    if options.multivariate:
        ref_x, names = encode(profile.data, profile)
        cur_x, _ = encode(frame, profile)
        dc = domain_classifier(ref_x, cur_x, names, options.auc_threshold, seed=options.seed)
        result.domain_classifier = {"auc": dc.auc, "drifted": dc.drifted,
                                    "top_features": [list(t) for t in dc.top_features]}
        mmd = mmd_test(ref_x, cur_x, options.mmd_permutations,
                       alpha=options.thresholds.alpha, seed=options.seed)
        result.mmd = {"mmd2": mmd.mmd2, "p_value": mmd.p_value, "drifted": mmd.drifted}
    proba = frame[contract.probability].to_numpy(dtype=float)
    result.estimated = cbpe(proba, profile.calibration, contract.threshold)
    if (window.labelled >= options.min_labels
            and window.coverage >= options.min_label_coverage):
        known = frame[frame[contract.target].notna()]
        result.realized = realized_metrics(known[contract.target].to_numpy(dtype=int),
                                           known[contract.probability].to_numpy(dtype=float),
                                           contract.threshold)
    return result
