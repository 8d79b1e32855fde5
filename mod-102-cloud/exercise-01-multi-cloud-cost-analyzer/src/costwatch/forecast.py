"""Month-end forecast with weekly seasonality, from the store's own daily totals.

moto has no `get_cost_forecast`, and the clouds' forecasts cover one provider each; this
model covers all of them with one rule a reader can check by hand:

* weekday factors f[w] = mean cost on weekday w / mean cost, over the last four full weeks
  (weekend dips and Monday batch jobs repeat every week);
* the deseasonalised series x_t / f[w_t] gets a least-squares line a + b*t (the trend);
* each remaining day of the month is forecast as (a + b*t) * f[w].

With under two weeks of history the factors are not trusted and the model is flat.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Forecast:
    month: str  # "2024-05"
    as_of: date
    actual_to_date: float
    forecast_remaining: float
    month_end: float
    history_days: int
    method: str

    def as_dict(self) -> dict[str, object]:
        return {"month": self.month, "as_of": self.as_of.isoformat(),
                "actual_to_date": round(self.actual_to_date, 2),
                "forecast_remaining": round(self.forecast_remaining, 2),
                "month_end": round(self.month_end, 2), "history_days": self.history_days,
                "method": self.method}


def weekday_factors(history: list[tuple[date, float]]) -> dict[int, float]:
    """Mean per weekday divided by the overall mean (1.0 for weekdays never seen)."""
    overall = sum(v for _, v in history) / len(history) if history else 0.0
    sums: dict[int, list[float]] = {}
    for day, value in history:
        sums.setdefault(day.weekday(), []).append(value)
    if overall <= 0:
        return dict.fromkeys(range(7), 1.0)
    return {w: (sum(sums[w]) / len(sums[w]) / overall if w in sums else 1.0)
            for w in range(7)}


def forecast_month_end(daily: dict[date, float], as_of: date, window: int = 28) -> Forecast:
    """Actual spend of `as_of`'s month through `as_of`, plus the modelled rest of the month.

    Days missing from `daily` count as zero spend (a day with no charges cost nothing).
    """
    # BEGIN SOLUTION: weekday factors, least-squares trend, project the remaining days
    month_start = as_of.replace(day=1)
    last_day = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    actual = sum(v for d, v in daily.items() if month_start <= d <= as_of)
    first_seen = min(daily) if daily else as_of
    span = min(window, (as_of - first_seen).days + 1)
    history = [(as_of - timedelta(days=i), daily.get(as_of - timedelta(days=i), 0.0))
               for i in range(span - 1, -1, -1)]
    remaining = [as_of + timedelta(days=i) for i in range(1, (last_day - as_of).days + 1)]
    if not history or not remaining:
        return Forecast(f"{as_of:%Y-%m}", as_of, actual, 0.0, actual, len(history), "none")
    if len(history) >= 14:
        factors = weekday_factors(history)
        method = "weekly-seasonal+trend"
    else:
        factors = dict.fromkeys(range(7), 1.0)
        method = "flat"
    ts = list(range(len(history)))
    ys = [v / factors[d.weekday()] if factors[d.weekday()] > 0 else v for d, v in history]
    n = len(ts)
    t_mean, y_mean = sum(ts) / n, sum(ys) / n
    var = sum((t - t_mean) ** 2 for t in ts)
    slope = (sum((t - t_mean) * (y - y_mean) for t, y in zip(ts, ys, strict=True)) / var
             if var and method != "flat" else 0.0)
    intercept = y_mean - slope * t_mean
    projected = 0.0
    for day in remaining:
        t = n - 1 + (day - as_of).days
        projected += max(0.0, (intercept + slope * t) * factors[day.weekday()])
    return Forecast(f"{as_of:%Y-%m}", as_of, actual, projected, actual + projected, n, method)
    # END SOLUTION
