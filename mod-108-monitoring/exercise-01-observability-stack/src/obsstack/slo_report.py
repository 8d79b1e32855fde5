"""`obsstack slo report`: attainment, error budget and burn rate per SLO from the series
the generated rules record, read over Prometheus' HTTP API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import httpx

from obsstack import slo


class PrometheusUnavailableError(RuntimeError):
    pass


@dataclass
class SloRow:
    slo: str
    objective: float
    attainment: float | None  # share of good events over the period
    budget_remaining: float | None
    burn_rate: float | None
    firing: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def cells(self) -> list[str]:
        def pct(x: float | None, digits: int = 3) -> str:
            return "no data" if x is None else f"{x * 100:.{digits}f}%"

        return [self.slo, f"{self.objective:g}%", pct(self.attainment),
                pct(self.budget_remaining, 1),
                "no data" if self.burn_rate is None else f"{self.burn_rate:.2f}x",
                ", ".join(self.firing) or "-"]


def _query(client: httpx.Client, url: str, expr: str) -> float | None:
    try:
        response = client.get(f"{url}/api/v1/query", params={"query": expr})
    except httpx.HTTPError as exc:
        raise PrometheusUnavailableError(f"Prometheus at {url} unreachable: {exc}") from exc
    if response.status_code >= 500:
        raise PrometheusUnavailableError(f"Prometheus at {url} answered {response.status_code}")
    result = response.json().get("data", {}).get("result", [])
    if not result:
        return None
    value = float(result[0]["value"][1])
    return value if value == value else None  # NaN (no traffic) -> no data


def report(spec: slo.SloSpec, url: str) -> list[SloRow]:
    """One row per SLO of `spec`."""
    # BEGIN SOLUTION
    url = url.rstrip("/")
    period = slo.format_duration(spec.period_s)
    rows = []
    with httpx.Client(timeout=10) as client:
        try:
            alerts = client.get(f"{url}/api/v1/alerts").json()["data"]["alerts"]
        except httpx.HTTPError as exc:
            raise PrometheusUnavailableError(f"Prometheus at {url} unreachable: {exc}") from exc
        for item in spec.slos:
            sel = f'slo_service="{spec.service}", slo_name="{item.name}"'
            error_ratio = _query(client, url, f"slo:sli_error:ratio_rate{period}{{{sel}}}")
            rows.append(SloRow(
                slo=item.name, objective=item.objective,
                attainment=None if error_ratio is None else 1 - error_ratio,
                budget_remaining=_query(
                    client, url, f"slo:period_error_budget_remaining:ratio{{{sel}}}"),
                burn_rate=_query(client, url, f"slo:current_burn_rate:ratio{{{sel}}}"),
                firing=sorted({a["labels"].get("severity", "?") for a in alerts
                               if a.get("state") == "firing"
                               and a["labels"].get("slo") == item.name
                               and a["labels"].get("slo_service") == spec.service}),
            ))
    return rows
    # END SOLUTION
