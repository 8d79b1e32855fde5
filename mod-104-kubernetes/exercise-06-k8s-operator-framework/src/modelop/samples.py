"""Model-server metrics as OpenMetrics text, for backfilling a real Prometheus.

The demo (and the tests) have no real model server under load, so they load the series a
server would have exported for one revision: request counters by status code and a latency
histogram, one sample every `step` seconds over the last `minutes`. The gates then query
this data with their real PromQL.
"""

from __future__ import annotations

import time

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def revision_series(namespace: str, name: str, revision: str, *, rps: float = 20.0,
                    error_ratio: float = 0.001, latency_seconds: float = 0.08,
                    minutes: int = 10, step: int = 15, end: float | None = None,
                    ) -> tuple[list[str], list[str]]:
    """(counter lines, histogram lines) for one revision, without # TYPE headers; every
    request takes `latency_seconds`, so the p95 falls in that bucket."""
    end = time.time() - 5 if end is None else end
    count = minutes * 60 // step
    labels = f'namespace="{namespace}",model="{name}",revision="{revision}"'
    ok, err, hist = [], [], []
    for i in range(count + 1):
        ts = end - (count - i) * step
        total = rps * step * i
        errors = total * error_ratio
        ok.append(f'model_requests_total{{{labels},code="200"}} {total - errors:.3f} {ts:.3f}')
        err.append(f'model_requests_total{{{labels},code="500"}} {errors:.3f} {ts:.3f}')
        for le in BUCKETS:
            value = total if latency_seconds <= le else 0.0
            hist.append(f'model_request_duration_seconds_bucket{{{labels},le="{le}"}} '
                        f"{value:.3f} {ts:.3f}")
        hist.append(f'model_request_duration_seconds_bucket{{{labels},le="+Inf"}} '
                    f"{total:.3f} {ts:.3f}")
        hist.append(f"model_request_duration_seconds_count{{{labels}}} {total:.3f} {ts:.3f}")
        hist.append(f"model_request_duration_seconds_sum{{{labels}}} "
                    f"{total * latency_seconds:.3f} {ts:.3f}")
    return ok + err, hist


def openmetrics(*series: tuple[list[str], list[str]]) -> str:
    """Join `revision_series` outputs into one OpenMetrics document."""
    counters = [line for pair in series for line in pair[0]]
    histograms = [line for pair in series for line in pair[1]]
    return "\n".join(["# TYPE model_requests counter", *counters,
                      "# TYPE model_request_duration_seconds histogram", *histograms,
                      "# EOF"]) + "\n"
