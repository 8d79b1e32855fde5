"""The smoke test a new deployment must pass before it takes traffic: health, the golden set's
predictions against their labels, and the latency budget of single-row requests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np


@dataclass(frozen=True)
class SmokeResult:
    passed: bool
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        failed = [f"{k}: {v}" for k, v in self.checks.items() if v.startswith("FAIL")]
        return "; ".join(failed) or "all checks passed"


def smoke_test(url: str, model_dir: Path, latency_budget_ms: float, requests: int) -> SmokeResult:
    """Every check runs (a report of all failures beats the first one)."""
    # BEGIN SOLUTION
    checks: dict[str, str] = {}
    golden = json.loads((model_dir / "golden.json").read_text())
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            health = client.get("/health")
            checks["health"] = "ok" if health.status_code == 200 else \
                f"FAIL status {health.status_code}"
            response = client.post("/predict", json={"rows": golden["rows"]})
            if response.status_code != 200:
                checks["golden"] = f"FAIL /predict answered {response.status_code}"
            else:
                labels = np.asarray(response.json()["labels"])
                accuracy = float(np.mean(labels == np.asarray(golden["labels"])))
                floor = float(golden.get("min_accuracy", 0.85))
                checks["golden"] = (f"ok accuracy {accuracy:.3f}" if accuracy >= floor else
                                    f"FAIL accuracy {accuracy:.3f} < {floor}")
            timings = []
            for i in range(requests):
                row = golden["rows"][i % len(golden["rows"])]
                start = time.perf_counter()
                client.post("/predict", json={"rows": [row]}).raise_for_status()
                timings.append((time.perf_counter() - start) * 1000)
            p95 = float(np.percentile(timings, 95))
            checks["latency"] = (f"ok p95 {p95:.1f} ms" if p95 <= latency_budget_ms else
                                 f"FAIL p95 {p95:.1f} ms > {latency_budget_ms} ms")
    except httpx.HTTPError as exc:
        checks["connection"] = f"FAIL {type(exc).__name__}: {exc}"
    return SmokeResult(all(not v.startswith("FAIL") for v in checks.values()), checks)
    # END SOLUTION
