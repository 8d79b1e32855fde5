"""The operator's own Prometheus metrics (served on `metrics_port`, scraped like any pod)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RECONCILES = Counter("modelop_reconciles_total", "Reconciles by trigger and result",
                     ["trigger", "result"])
DURATION = Histogram("modelop_reconcile_duration_seconds", "Time per reconcile", ["trigger"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
ERRORS = Counter("modelop_reconcile_errors_total", "Reconcile failures by reason", ["reason"])
ROLLOUTS = Counter("modelop_rollouts_total", "Canary rollout transitions", ["action"])
WRITES = Counter("modelop_api_writes_total", "Child writes by verb and kind", ["verb", "kind"])
CLEANUPS = Counter("modelop_cleanups_total", "Finalizer cleanups by result", ["result"])
