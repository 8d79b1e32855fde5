"""Model health scorecard: five checks graded green / amber / red with the numbers behind them.

`collect()` asks Prometheus for the raw numbers (the adapter does the HTTP), `grade()` is pure
and applies the thresholds, `render_html()` makes the small shareable page. A check without
data (no traffic, no labels yet) is graded "unknown" rather than guessed.
"""

from __future__ import annotations

import html
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from modelmon.config import Thresholds

GRADES = ("green", "amber", "red")  # "unknown" sits outside the order
COLORS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "unknown": "#757575"}


class QueryClient(Protocol):
    def query(self, expr: str) -> list[dict[str, Any]]: ...
    def scalar(self, expr: str) -> float | None: ...
    def vector(self, expr: str, label: str) -> dict[str, float]: ...


@dataclass
class ScoreInputs:
    model: str
    version: str | None
    window: str
    requests: float | None = None
    errors: float | None = None
    p99_seconds: float | None = None
    accuracy: float | None = None
    baseline_accuracy: float | None = None
    labelled: float | None = None
    psi: dict[str, float] = field(default_factory=dict)
    prediction_psi: float | None = None
    null_rate: dict[str, float] = field(default_factory=dict)
    out_of_range_rate: dict[str, float] = field(default_factory=dict)


@dataclass
class Check:
    name: str
    grade: str
    value: float | None
    detail: str


@dataclass
class Scorecard:
    model: str
    version: str | None
    window: str
    generated_at: float
    overall: str
    checks: list[Check]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ModelNotFoundError(LookupError):
    """Prometheus has no series at all for the model."""


def _selector(model: str, version: str | None) -> str:
    parts = [f'model="{model}"']
    if version:
        parts.append(f'version="{version}"')
    return ", ".join(parts)


def collect(client: QueryClient, model: str, version: str | None = None,
            window: str = "5m") -> ScoreInputs:
    """Query Prometheus for the numbers a scorecard needs."""
    # BEGIN SOLUTION: query each input scoped to model, version and window
    sel = _selector(model, version)
    known = client.query(f"count({{__name__=~\"modelmon_requests_total|"
                         f"modelmon_window_predictions\", {sel}}})")
    if not known:
        raise ModelNotFoundError(f"Prometheus has no modelmon series for model {model!r}"
                                 + (f" version {version!r}" if version else ""))
    return ScoreInputs(
        model=model, version=version, window=window,
        requests=client.scalar(f"sum(increase(modelmon_requests_total{{{sel}}}[{window}]))"),
        errors=client.scalar(f"sum(increase(modelmon_requests_total{{{sel}, "
                             f"outcome=\"server_error\"}}[{window}]))"),
        p99_seconds=client.scalar(
            f"histogram_quantile(0.99, sum by (le) "
            f"(rate(modelmon_request_latency_seconds_bucket{{{sel}}}[{window}])))"),
        accuracy=client.scalar(f"min(modelmon_model_accuracy{{{sel}}})"),
        baseline_accuracy=client.scalar(
            f"max(modelmon_model_baseline{{{sel}, metric=\"accuracy\"}})"),
        labelled=client.scalar(f"sum(modelmon_window_labelled_predictions{{{sel}}})"),
        psi=client.vector(f"max by (feature) (modelmon_feature_psi{{{sel}}})", "feature"),
        prediction_psi=client.scalar(f"max(modelmon_prediction_psi{{{sel}}})"),
        null_rate=client.vector(f"max by (feature) (modelmon_feature_null_rate{{{sel}}})",
                                "feature"),
        out_of_range_rate=client.vector(
            f"max by (feature) (modelmon_feature_out_of_range_rate{{{sel}}})", "feature"),
    )
    # END SOLUTION


def _higher_is_better(value: float, green: float, amber: float) -> str:
    return "green" if value >= green else "amber" if value >= amber else "red"


def _lower_is_better(value: float, green: float, amber: float) -> str:
    return "green" if value <= green else "amber" if value <= amber else "red"


def grade(inputs: ScoreInputs, t: Thresholds, now: float | None = None) -> Scorecard:
    # BEGIN SOLUTION: the five checks; overall is the worst known grade
    checks = [_availability(inputs, t), _latency(inputs, t), _accuracy(inputs, t),
              _drift(inputs, t), _quality(inputs, t)]
    known = [c.grade for c in checks if c.grade in GRADES]
    overall = max(known, key=GRADES.index) if known else "unknown"
    return Scorecard(inputs.model, inputs.version, inputs.window,
                     now if now is not None else time.time(), overall, checks)
    # END SOLUTION


def _availability(i: ScoreInputs, t: Thresholds) -> Check:
    if not i.requests:
        return Check("availability", "unknown", None, f"no requests in the last {i.window}")
    ok_ratio = 1.0 - (i.errors or 0.0) / i.requests
    return Check("availability",
                 _higher_is_better(ok_ratio, t.availability_green, t.availability_amber),
                 ok_ratio,
                 f"{ok_ratio:.2%} of ~{i.requests:.0f} requests succeeded "
                 f"(green >= {t.availability_green:.2%}, amber >= {t.availability_amber:.2%})")


def _latency(i: ScoreInputs, t: Thresholds) -> Check:
    if i.p99_seconds is None:
        return Check("latency", "unknown", None, f"no requests in the last {i.window}")
    amber = t.latency_slo_seconds * t.latency_amber_factor
    return Check("latency", _lower_is_better(i.p99_seconds, t.latency_slo_seconds, amber),
                 i.p99_seconds,
                 f"p99 {i.p99_seconds * 1000:.1f} ms (SLO {t.latency_slo_seconds * 1000:.0f} "
                 f"ms, amber up to {amber * 1000:.0f} ms)")


def _accuracy(i: ScoreInputs, t: Thresholds) -> Check:
    if i.accuracy is None:
        return Check("accuracy", "unknown", None, "not enough labelled predictions yet")
    if i.baseline_accuracy is None:
        return Check("accuracy", "unknown", i.accuracy,
                     f"accuracy {i.accuracy:.3f}, no baseline to compare with")
    drop = i.baseline_accuracy - i.accuracy
    labelled = f" on {i.labelled:.0f} labels" if i.labelled is not None else ""
    return Check("accuracy", _lower_is_better(drop, t.accuracy_drop_green,
                                              t.accuracy_drop_amber), i.accuracy,
                 f"accuracy {i.accuracy:.3f}{labelled} vs baseline {i.baseline_accuracy:.3f} "
                 f"(drop {drop:+.3f}; green <= {t.accuracy_drop_green}, "
                 f"amber <= {t.accuracy_drop_amber})")


def _drift(i: ScoreInputs, t: Thresholds) -> Check:
    if not i.psi:
        return Check("drift", "unknown", None, "not enough predictions in the window")
    feature, worst = max(i.psi.items(), key=lambda kv: kv[1])
    drifted = sorted(f for f, v in i.psi.items() if v > t.psi_amber)
    pred = f", prediction PSI {i.prediction_psi:.3f}" if i.prediction_psi is not None else ""
    extra = f"; drifted: {', '.join(drifted)}" if drifted else ""
    return Check("drift", _lower_is_better(worst, t.psi_green, t.psi_amber), worst,
                 f"max PSI {worst:.3f} ({feature}){pred} (green <= {t.psi_green}, "
                 f"amber <= {t.psi_amber}){extra}")


def _quality(i: ScoreInputs, t: Thresholds) -> Check:
    rates = {f"{f} null": v for f, v in i.null_rate.items()}
    rates.update({f"{f} out-of-range": v for f, v in i.out_of_range_rate.items()})
    if not rates:
        return Check("data_quality", "unknown", None, "no feature statistics yet")
    what, worst = max(rates.items(), key=lambda kv: kv[1])
    return Check("data_quality", _lower_is_better(worst, t.quality_green, t.quality_amber),
                 worst, f"worst {what} rate {worst:.2%} (green <= {t.quality_green:.0%}, "
                        f"amber <= {t.quality_amber:.0%})")


def render_html(card: Scorecard) -> str:
    """A self-contained HTML page (no scripts, no external assets)."""
    esc = html.escape
    rows = "\n".join(
        f"<tr><td>{esc(c.name)}</td><td class=\"grade\" style=\"background:"
        f"{COLORS[c.grade]}\">{esc(c.grade)}</td><td>"
        f"{'' if c.value is None else f'{c.value:.4g}'}</td><td>{esc(c.detail)}</td></tr>"
        for c in card.checks)
    version = f" {esc(card.version)}" if card.version else ""
    generated = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(card.generated_at))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Scorecard: {esc(card.model)}{version}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.4em .8em;text-align:left}}
.grade{{color:#fff;font-weight:bold}}</style></head><body>
<h1>Scorecard: {esc(card.model)}{version}</h1>
<p>Overall: <strong class="grade" style="background:{COLORS[card.overall]};padding:.2em .6em">
{esc(card.overall)}</strong> &middot; window {esc(card.window)} &middot; {generated}</p>
<table><thead><tr><th>check</th><th>grade</th><th>value</th><th>why</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
