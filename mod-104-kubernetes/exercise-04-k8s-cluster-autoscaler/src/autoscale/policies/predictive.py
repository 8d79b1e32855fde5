"""Predictive scaling: forecast the request rate ahead by the time new capacity needs to
start, never scale below the reactive answer.

The open request this answers (keda#2401, keda#197): HPA and KEDA only react, so a daily spike
is always met by pods that are still starting. Two forecasters:

* seasonal-naive: the value one season (a day) ago, scaled by how today's level compares
  with yesterday's over the last hour (robust, needs one season of history);
* Holt-Winters (statsmodels `ExponentialSmoothing`, additive seasonality, heuristic
  initialization): needs two seasons; refit once per bucket of new data.

Both work on *bucket peaks* (the max rate per 15-minute bucket by default), because capacity
has to cover the peak inside a bucket, not its mean.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from autoscale.errors import PolicyError


class Method(StrEnum):
    HOLT_WINTERS = "holt-winters"
    SEASONAL_NAIVE = "seasonal-naive"


@dataclass(frozen=True)
class ForecastSpec:
    method: Method = Method.HOLT_WINTERS
    bucket_seconds: int = 900
    season_seconds: int = 86400
    lead_seconds: float = 180.0  # pod start-up (+ node start-up when nodes must be added)
    refit_buckets: int = 4  # Holt-Winters is refitted every this many new buckets

    def __post_init__(self) -> None:
        if self.bucket_seconds <= 0 or self.season_seconds % self.bucket_seconds:
            raise PolicyError("the season must be a whole number of buckets")

    @property
    def period(self) -> int:
        return self.season_seconds // self.bucket_seconds


def bucket_peaks(values: Sequence[float], step_seconds: float, bucket_seconds: int
                 ) -> np.ndarray:
    """Max per complete bucket of a regularly sampled series (a trailing partial is dropped)."""
    per = max(round(bucket_seconds / step_seconds), 1)
    n = len(values) // per
    if n == 0:
        return np.zeros(0)
    peaks: np.ndarray = np.asarray(values[: n * per], dtype=float).reshape(n, per).max(axis=1)
    return peaks


def seasonal_naive(history: np.ndarray, period: int, horizon: int) -> np.ndarray:
    """Next `horizon` buckets: same bucket a season ago, times the recent level ratio."""
    # BEGIN SOLUTION
    if len(history) < period:
        raise PolicyError(f"seasonal-naive needs one season ({period} buckets) of history")
    recent = min(4, len(history) - period) if len(history) > period else 0
    scale = 1.0
    if recent:
        now_level = float(np.mean(history[-recent:]))
        then_level = float(np.mean(history[-recent - period: len(history) - period]))
        if then_level > 0:
            scale = min(max(now_level / then_level, 0.5), 2.0)
    start = len(history) - period
    out = [history[start + (h % period)] * scale for h in range(horizon)]
    return np.asarray(out, dtype=float)
    # END SOLUTION


def holt_winters(history: np.ndarray, period: int, horizon: int) -> np.ndarray:
    """Additive Holt-Winters forecast of the next `horizon` buckets (clipped at 0)."""
    # BEGIN SOLUTION
    if len(history) < 2 * period:
        raise PolicyError(f"Holt-Winters needs two seasons ({2 * period} buckets) of history")
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on flat series
        model = ExponentialSmoothing(history, trend=None, seasonal="add",
                                     seasonal_periods=period,
                                     initialization_method="heuristic")
        fitted = model.fit(optimized=True)
        forecast = np.asarray(fitted.forecast(horizon), dtype=float)
    clipped: np.ndarray = np.clip(np.nan_to_num(forecast, nan=0.0), 0.0, None)
    return clipped
    # END SOLUTION


class Forecaster:
    """Keeps bucket peaks of the observed rate and answers "the peak within `lead`"."""

    def __init__(self, spec: ForecastSpec, step_seconds: float) -> None:
        self.spec = spec
        self.step_seconds = step_seconds
        self._samples: list[float] = []
        self._fitted_at = -1
        self._forecast = np.zeros(0)
        self.method_used: Method | None = None

    def observe(self, rate: float) -> None:
        if math.isnan(rate) or rate < 0:
            raise ValueError(f"request rate must be >= 0 (got {rate})")
        self._samples.append(rate)

    def extend(self, rates: Sequence[float]) -> None:
        for rate in rates:
            self.observe(rate)

    def _refresh(self) -> int:
        """Refit when due; returns how many buckets have passed since the last fit."""
        per = max(round(self.spec.bucket_seconds / self.step_seconds), 1)
        buckets = len(self._samples) // per
        period = self.spec.period
        hw = self.spec.method is Method.HOLT_WINTERS and buckets >= 2 * period
        due = buckets != self._fitted_at and (
            not hw or self.method_used is not Method.HOLT_WINTERS
            or buckets - self._fitted_at >= self.spec.refit_buckets)
        if not due:
            return buckets - self._fitted_at
        self._fitted_at = buckets
        history = bucket_peaks(self._samples, self.step_seconds, self.spec.bucket_seconds)
        horizon = period  # a season ahead: enough for any lead and refit interval
        self.method_used = None
        self._forecast = np.zeros(0)
        if hw:
            self._forecast = holt_winters(history, period, horizon)
            self.method_used = Method.HOLT_WINTERS
        elif buckets >= period:
            self._forecast = seasonal_naive(history, period, horizon)
            self.method_used = Method.SEASONAL_NAIVE
        return 0

    def peak_ahead(self, lead_seconds: float | None = None) -> float | None:
        """The forecast peak rate between now and now + lead (None: not enough history)."""
        offset = self._refresh()
        if not len(self._forecast):
            return None
        lead = self.spec.lead_seconds if lead_seconds is None else lead_seconds
        per = max(round(self.spec.bucket_seconds / self.step_seconds), 1)
        into_bucket = (len(self._samples) % per) * self.step_seconds
        # forecast[0] is the bucket in progress; cover every bucket the lead reaches
        last = int((into_bucket + lead) // self.spec.bucket_seconds)
        window = self._forecast[offset: offset + last + 1]
        return float(np.max(window)) if len(window) else None


def replicas_for_rate(rate: float, per_pod_capacity: float, target_utilization: float) -> int:
    """Pods needed so `rate` runs at `target_utilization` (percent) of per-pod capacity."""
    if per_pod_capacity <= 0 or not 0 < target_utilization <= 100:
        raise PolicyError("capacity must be > 0 and target utilization in (0, 100]")
    return max(math.ceil(rate / (per_pod_capacity * target_utilization / 100)), 0)
