"""Canary gates: PromQL queries for one revision, and the verdict on their values.

The query text comes from settings (templates with {namespace}, {name}, {revision} and
{window}), so a cluster whose model servers export other metric names only changes config.
Evaluation is pure; fetching goes through `adapters.prometheus`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from modelop.spec import Gates

DEFAULT_ERROR_RATE_QUERY = (
    'sum(rate(model_requests_total{{namespace="{namespace}",model="{name}",'
    'revision="{revision}",code=~"5.."}}[{window}])) / '
    'sum(rate(model_requests_total{{namespace="{namespace}",model="{name}",'
    'revision="{revision}"}}[{window}]))')
DEFAULT_P95_QUERY = (
    'histogram_quantile(0.95, sum by (le) (rate(model_request_duration_seconds_bucket'
    '{{namespace="{namespace}",model="{name}",revision="{revision}"}}[{window}])))')


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    NO_DATA = "nodata"


@dataclass(frozen=True)
class GateResult:
    name: str
    threshold: float
    value: float | None
    verdict: Verdict

    def describe(self) -> str:
        if self.value is None:
            return f"{self.name} no data"
        sign = ">" if self.verdict is Verdict.FAIL else "<="
        return f"{self.name} {self.value:.4g} {sign} {self.threshold:.4g}"


@dataclass(frozen=True)
class GateReport:
    results: tuple[GateResult, ...]

    @property
    def failed(self) -> bool:
        return any(r.verdict is Verdict.FAIL for r in self.results)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.verdict is Verdict.PASS for r in self.results)

    def summary(self) -> str:
        return ", ".join(r.describe() for r in self.results)

    def values(self) -> dict[str, float | None]:
        return {r.name: r.value for r in self.results}


def judge(name: str, value: float | None, threshold: float) -> GateResult:
    """NaN (0/0: no requests in the window) counts as no data, not as a pass."""
    # BEGIN SOLUTION: None or NaN -> NO_DATA; value <= threshold -> PASS; else FAIL
    if value is None or value != value:  # NaN
        return GateResult(name, threshold, None, Verdict.NO_DATA)
    return GateResult(name, threshold, value,
                      Verdict.PASS if value <= threshold else Verdict.FAIL)
    # END SOLUTION


def render_queries(gates: Gates, namespace: str, name: str, revision: str,
                   error_rate_query: str = DEFAULT_ERROR_RATE_QUERY,
                   p95_query: str = DEFAULT_P95_QUERY) -> dict[str, tuple[str, float]]:
    """gate name -> (PromQL, threshold), only for the gates the spec sets."""
    values = {"namespace": namespace, "name": name, "revision": revision,
              "window": gates.window}
    queries: dict[str, tuple[str, float]] = {}
    if gates.max_error_rate is not None:
        queries["errorRate"] = (error_rate_query.format(**values), gates.max_error_rate)
    if gates.max_p95_latency_seconds is not None:
        queries["p95LatencySeconds"] = (p95_query.format(**values),
                                        gates.max_p95_latency_seconds)
    return queries


def evaluate(queries: dict[str, tuple[str, float]],
             fetch: Callable[[str], float | None]) -> GateReport:
    """Run each query through `fetch` (a Prometheus instant query) and judge it."""
    return GateReport(tuple(judge(name, fetch(query), threshold)
                            for name, (query, threshold) in queries.items()))
