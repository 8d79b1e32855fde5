"""Quality gates: pure decisions over numbers already measured.

Keeping the decision free of I/O makes every rule unit-testable and makes the evaluation
run's record (metrics in, checks out) the full explanation of why a candidate passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mltrack.config import GateConfig

# A schema is a list of (column name, type name) pairs, in order.
Schema = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    detail: str


@dataclass
class GateReport:
    checks: list[GateCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [check for check in self.checks if not check.passed]

    def summary(self) -> str:
        """One line: every failed check, or 'all N gates passed'."""
        if self.passed:
            return f"all {len(self.checks)} gates passed"
        return "; ".join(f"{check.name}: {check.detail}" for check in self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [asdict(check) for check in self.checks]}


def signature_compatibility(candidate: Schema | None, reference: Schema) -> tuple[bool, str]:
    """A candidate is compatible when it accepts exactly the reference's columns and types.

    A missing column breaks every caller that sends it; an extra required column breaks
    every caller that does not; a type change breaks silently. Order does not matter
    (MLflow matches columns by name).
    """
    # BEGIN SOLUTION: name missing, unexpected and type-changed inputs
    if candidate is None:
        return False, "candidate has no signature"
    cand = dict(candidate)
    ref = dict(reference)
    missing = sorted(set(ref) - set(cand))
    extra = sorted(set(cand) - set(ref))
    changed = sorted(name for name in set(ref) & set(cand) if ref[name] != cand[name])
    problems = []
    if missing:
        problems.append(f"missing input(s) {_few(repr(m) for m in missing)}")
    if extra:
        problems.append(f"unexpected input(s) {_few(repr(e) for e in extra)}")
    if changed:
        problems.append("type changed for " + _few(f"{n!r} ({ref[n]} -> {cand[n]})"
                                                   for n in changed))
    if problems:
        return False, "; ".join(problems)
    return True, f"{len(ref)} inputs match"
    # END SOLUTION


@dataclass(frozen=True)
class Difference:
    """Paired-bootstrap interval of metric(candidate) - metric(champion) on the same rows."""

    metric: str
    point: float
    low: float
    high: float
    confidence: float
    samples: int


def _metric_rows(name: str, truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """`name` for each row of (resamples x rows) label matrices; 0 where undefined."""
    tp = np.sum(truth & pred, axis=-1)
    fp = np.sum(~truth & pred, axis=-1)
    fn = np.sum(truth & ~pred, axis=-1)
    if name == "accuracy":
        return np.asarray(np.mean(truth == pred, axis=-1), dtype=float)
    numerator, denominator = {"precision": (tp, tp + fp), "recall": (tp, tp + fn),
                              "f1": (2 * tp, 2 * tp + fp + fn)}[name]
    ratio: np.ndarray = np.divide(numerator, denominator,
                                  out=np.zeros(np.shape(tp), dtype=float),
                                  where=denominator > 0)
    return ratio


def bootstrap_difference(metric: str, truth: Any, candidate: Any, champion: Any, *,
                         samples: int = 1000, confidence: float = 0.95, seed: int = 0
                         ) -> Difference:
    """Resample the held-out rows with replacement (the same rows for both models) and take
    the central `confidence` interval of the metric difference. Seeded: same data, same CI.
    """
    # BEGIN SOLUTION: paired resampling, percentile interval
    y = np.asarray(truth).astype(bool)
    cand = np.asarray(candidate).astype(bool)
    champ = np.asarray(champion).astype(bool)
    if not len(y) == len(cand) == len(champ) or len(y) == 0:
        raise ValueError("truth and both predictions must have the same length (> 0), got "
                         f"{len(y)}, {len(cand)} and {len(champ)}")
    rows = np.random.default_rng(seed).integers(0, len(y), size=(samples, len(y)))
    diffs = (_metric_rows(metric, y[rows], cand[rows])
             - _metric_rows(metric, y[rows], champ[rows]))
    tail = (1 - confidence) / 2
    point = float(_metric_rows(metric, y, cand) - _metric_rows(metric, y, champ))
    return Difference(metric, point, float(np.quantile(diffs, tail)),
                      float(np.quantile(diffs, 1 - tail)), confidence, samples)
    # END SOLUTION


def _few(items: Iterable[str], limit: int = 3) -> str:
    """Name at most `limit` items so that the one-line error stays one readable line."""
    listed = list(items)
    more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
    return ", ".join(listed[:limit]) + more


def evaluate_gates(
    config: GateConfig,
    candidate: dict[str, float],
    champion: dict[str, float] | None,
    latency_p95_ms: float | None,
    signature: tuple[bool, str],
    difference: Difference | None = None,
) -> GateReport:
    """Apply every configured gate; the candidate must pass all of them.

    `difference` (with a champion) is the bootstrap interval on `config.primary_metric`: the
    `ci_<metric>` gate fails when its lower bound is below the allowed drop, so a candidate
    is not promoted on a difference the held-out set cannot tell from noise.
    """
    # BEGIN SOLUTION: signature, then min_ floors, regression_ vs champion, latency
    report = GateReport()
    sig_ok, sig_detail = signature
    if config.require_signature_match:
        report.checks.append(GateCheck("signature", sig_ok, sig_detail))
    if not sig_ok and config.require_signature_match:
        return report  # metrics of a model that cannot take our inputs mean nothing
    for name, floor in sorted(config.min_metrics.items()):
        value = candidate[name]
        report.checks.append(GateCheck(
            f"min_{name}", value >= floor,
            f"{name} {value:.4f} {'>=' if value >= floor else '<'} {floor:.4f}",
        ))
    if champion is not None:
        for name, allowed in sorted(config.max_regression.items()):
            drop = champion[name] - candidate[name]
            ok = drop <= allowed + 1e-12
            report.checks.append(GateCheck(
                f"regression_{name}", ok,
                f"{name} {candidate[name]:.4f} vs champion {champion[name]:.4f} "
                f"(drop {max(drop, 0.0):.4f}, allowed {allowed:.4f})",
            ))
    if champion is not None and difference is not None:
        allowed = config.max_regression.get(config.primary_metric, 0.0)
        ok = difference.low >= -allowed - 1e-12
        report.checks.append(GateCheck(
            f"ci_{config.primary_metric}", ok,
            f"{config.primary_metric} difference {difference.point:+.4f}, "
            f"{difference.confidence:.0%} CI [{difference.low:+.4f}, {difference.high:+.4f}] "
            f"({difference.samples} paired resamples; lower bound must be >= "
            f"{-allowed:+.4f})",
        ))
    if latency_p95_ms is not None:
        ok = latency_p95_ms <= config.latency_budget_ms
        report.checks.append(GateCheck(
            "latency", ok,
            f"p95 {latency_p95_ms:.2f} ms {'<=' if ok else '>'} budget "
            f"{config.latency_budget_ms:.2f} ms",
        ))
    return report
    # END SOLUTION
