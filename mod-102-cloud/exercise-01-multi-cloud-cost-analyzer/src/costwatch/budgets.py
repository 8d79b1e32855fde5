"""Budgets: a monthly amount for a scope, alerting at 80% and 100% of actual or forecast.

Alerting on the forecast as well as the actual is what makes a budget useful: the 100%
alert on the actual arrives when the money is spent, the one on the forecast while there
is still time to act. Pure: the caller supplies actual and forecast figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

THRESHOLDS = (0.8, 1.0)


class Budget(BaseModel):
    """One budget from the config file (`budgets:` list)."""

    name: str
    amount: float = Field(gt=0)
    providers: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    thresholds: list[float] = Field(default_factory=lambda: list(THRESHOLDS))


@dataclass(frozen=True)
class BudgetStatus:
    name: str
    amount: float
    actual: float
    forecast: float
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "amount": self.amount, "actual": round(self.actual, 2),
                "forecast": round(self.forecast, 2),
                "actual_pct": round(self.actual / self.amount * 100, 1),
                "forecast_pct": round(self.forecast / self.amount * 100, 1),
                "alerts": self.alerts}


def evaluate(budget: Budget, actual: float, forecast: float) -> BudgetStatus:
    """Alerts for each threshold crossed, by the actual spend and by the forecast."""
    # BEGIN SOLUTION: one alert per (threshold, basis) crossed, actual and forecast
    alerts = []
    for threshold in sorted(budget.thresholds):
        for basis, value in (("actual", actual), ("forecast", forecast)):
            if value >= threshold * budget.amount:
                alerts.append({"threshold": threshold, "basis": basis,
                               "value": round(value, 2),
                               "limit": round(threshold * budget.amount, 2)})
    return BudgetStatus(budget.name, budget.amount, actual, forecast, alerts)
    # END SOLUTION
