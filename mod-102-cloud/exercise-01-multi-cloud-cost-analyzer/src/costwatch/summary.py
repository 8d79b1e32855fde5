"""One analysis of a period, shared by the CLI, reports, the scheduler and the dashboard:
totals, top services and accounts, anomalies with root causes, forecast, budgets, savings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from costwatch import analysis
from costwatch.analysis import Filters
from costwatch.anomalies import Anomaly, DetectorConfig, detect, root_cause
from costwatch.budgets import Budget, BudgetStatus, evaluate
from costwatch.forecast import Forecast, forecast_month_end
from costwatch.recommend import Recommendation, commitment_coverage
from costwatch.store import Store


def find_anomalies(store: Store, start: date, end: date, filters: Filters | None = None,
                   config: DetectorConfig | None = None) -> list[Anomaly]:
    """Anomalies on days in [start, end), each with its root cause from the store."""
    cfg = config or DetectorConfig()
    base = filters or Filters()
    history = base.with_range(start - timedelta(weeks=cfg.baseline_weeks), end)
    found = detect(analysis.series_by_group(store, history), start, end, cfg)
    for anomaly in found:
        days = anomaly.baseline_days(cfg.baseline_weeks)
        detail = analysis.breakdown(store, anomaly.key, [*days, anomaly.day], base)
        anomaly.root_cause = root_cause(anomaly, detail, days)
    return found


def budget_statuses(store: Store, budgets: list[Budget], as_of: date) -> list[BudgetStatus]:
    """Each budget's month-to-date actual and month-end forecast, with its alerts."""
    out = []
    for budget in budgets:
        scope = Filters(start=as_of - timedelta(days=62), end=as_of + timedelta(days=1),
                        providers=tuple(budget.providers), services=tuple(budget.services),
                        accounts=tuple(budget.accounts), tags=tuple(budget.tags.items()))
        forecast = forecast_month_end(analysis.daily_totals(store, scope), as_of)
        out.append(evaluate(budget, forecast.actual_to_date, forecast.month_end))
    return out


def cost_recommendations(store: Store, end: date, days: int = 30) -> list[Recommendation]:
    """Recommendations that need only the billing data (commitment coverage per provider)."""
    series = analysis.compute_daily(store, Filters(end - timedelta(days=days), end))
    out = []
    for provider, (on_demand, covered) in sorted(series.items()):
        rec = commitment_coverage(on_demand, covered, provider)
        if rec is not None:
            out.append(rec)
    return out


@dataclass
class Summary:
    start: date
    end: date  # exclusive
    totals: dict[str, float]
    by_service: list[dict[str, Any]]
    by_account: list[dict[str, Any]]
    daily: dict[date, float]
    anomalies: list[Anomaly] = field(default_factory=list)
    forecast: Forecast | None = None
    budgets: list[BudgetStatus] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.totals.values())

    @property
    def savings(self) -> float:
        return sum(r.monthly_savings for r in self.recommendations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "total": round(self.total, 2),
            "totals": {k: round(v, 2) for k, v in self.totals.items()},
            "by_service": [{"key": r["key"], "cost": round(r["cost"], 2)}
                           for r in self.by_service],
            "by_account": [{"key": r["key"], "cost": round(r["cost"], 2)}
                           for r in self.by_account],
            "anomalies": [a.as_dict() for a in self.anomalies],
            "forecast": self.forecast.as_dict() if self.forecast else None,
            "budgets": [b.as_dict() for b in self.budgets],
            "recommendations": [r.as_dict() for r in self.recommendations],
            "monthly_savings": round(self.savings, 2),
        }


def build_summary(store: Store, start: date, end: date, *, budgets: list[Budget] | None = None,
                  detector: DetectorConfig | None = None,
                  recommendations: list[Recommendation] | None = None,
                  filters: Filters | None = None, top: int = 10) -> Summary:
    base = (filters or Filters()).with_range(start, end)
    as_of = end - timedelta(days=1)
    forecast_scope = base.with_range(as_of - timedelta(days=62), end)
    recs = list(recommendations or []) + cost_recommendations(store, end)
    return Summary(
        start=start, end=end, totals=analysis.totals(store, base),
        by_service=analysis.rollup(store, "service", base)[:top],
        by_account=analysis.rollup(store, "account", base)[:top],
        daily=analysis.daily_totals(store, base),
        anomalies=find_anomalies(store, start, end, filters, detector),
        forecast=forecast_month_end(analysis.daily_totals(store, forecast_scope), as_of),
        budgets=budget_statuses(store, budgets or [], as_of),
        recommendations=sorted(recs, key=lambda r: -r.monthly_savings),
    )
