"""Month-end forecast (weekly seasonality) and budget alerts on hand-computed data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from costwatch.budgets import Budget, evaluate
from costwatch.forecast import forecast_month_end


def weekly(start: date, end: date, weekday: float = 100.0, weekend: float = 50.0
           ) -> dict[date, float]:
    days = (end - start).days + 1
    return {start + timedelta(days=i): (weekend if (start + timedelta(days=i)).weekday() >= 5
                                        else weekday) for i in range(days)}


@pytest.mark.points(4)
def test_weekly_pattern_forecast_known_answer() -> None:
    daily = weekly(date(2026, 4, 10), date(2026, 5, 14))
    got = forecast_month_end(daily, as_of=date(2026, 5, 14))
    # May 2026: 1-14 has 10 weekdays + 4 weekend days = 1200; 15-31 has 11 + 6 = 1400.
    assert got.actual_to_date == pytest.approx(1200.0)
    assert got.forecast_remaining == pytest.approx(1400.0)
    assert got.month_end == pytest.approx(2600.0)
    assert got.method == "weekly-seasonal+trend"


@pytest.mark.hidden
@pytest.mark.points(2)
def test_trend_raises_the_forecast() -> None:
    flat = {date(2026, 4, 1) + timedelta(days=i): 100.0 for i in range(44)}
    rising = {d: 100.0 + 2.0 * i for i, d in enumerate(sorted(flat))}
    as_of = date(2026, 5, 14)
    assert forecast_month_end(flat, as_of).forecast_remaining == pytest.approx(1700.0)
    assert forecast_month_end(rising, as_of).forecast_remaining > 1700.0 + 17 * 2 * 27


def test_short_history_is_flat() -> None:
    daily = {date(2026, 5, d): 10.0 for d in range(1, 6)}
    got = forecast_month_end(daily, as_of=date(2026, 5, 5))
    assert got.method == "flat" and got.month_end == pytest.approx(310.0)


@pytest.mark.points(3)
def test_budget_alerts_on_actual_and_forecast() -> None:
    budget = Budget(name="ml", amount=1000.0)
    quiet = evaluate(budget, actual=500.0, forecast=790.0)
    assert quiet.alerts == []
    warn = evaluate(budget, actual=500.0, forecast=850.0)
    assert [(a["threshold"], a["basis"]) for a in warn.alerts] == [(0.8, "forecast")]
    over = evaluate(budget, actual=1000.0, forecast=1300.0)
    assert [(a["threshold"], a["basis"]) for a in over.alerts] == [
        (0.8, "actual"), (0.8, "forecast"), (1.0, "actual"), (1.0, "forecast")]
    assert over.as_dict()["forecast_pct"] == 130.0
