"""Where a rollout's steps are recorded: a status file, Prometheus metrics.

The status file is the rollout's `status` (like a Canary resource's): phase, weights, failed
checks, the reason, and for every check of every step its query, value, threshold and
verdict. The metrics make the same facts graphable and alertable.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json
from prometheus_client import CollectorRegistry, Counter, Gauge

from meshobs.delivery.analysis import RolloutState
from meshobs.delivery.spec import CanarySpec

PHASE_CODES = {"Initializing": 0, "Progressing": 1, "Succeeded": 2, "Failed": 3}


def status_document(spec: CanarySpec, state: RolloutState, weights: dict[str, int]
                    ) -> dict[str, Any]:
    last = state.history[-1] if state.history else None
    return {
        "service": spec.service, "primary": spec.primary, "canary": spec.canary,
        "mode": spec.mode, "provider": spec.provider, "phase": state.phase,
        "canaryWeight": state.canary_weight, "weights": weights,
        "failedChecks": state.failed_checks, "threshold": spec.threshold,
        "iteration": state.iteration, "reason": state.reason,
        "lastChecks": [asdict(r) for r in last.results] if last else [],
        "history": [{"iteration": step.iteration, "canaryWeight": step.canary_weight,
                     "action": step.action, "message": step.message,
                     "checks": [asdict(r) for r in step.results]} for step in state.history],
    }


class FileStatus:
    """`<directory>/<service>.json`, rewritten atomically at every step."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, service: str) -> Path:
        return self.directory / f"{service}.json"

    def record(self, spec: CanarySpec, state: RolloutState, weights: dict[str, int]) -> None:
        atomic_write_json(self.path(spec.service), status_document(spec, state, weights))


class MetricsStatus:
    """Prometheus metrics of the rollouts this process drives."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.weight = Gauge("meshobs_canary_weight", "Traffic share of each version (%)",
                            ["service", "version"], registry=registry)
        self.phase = Gauge("meshobs_canary_phase",
                           "0 initializing, 1 progressing, 2 succeeded, 3 failed",
                           ["service"], registry=registry)
        self.failed = Gauge("meshobs_canary_failed_checks", "Failed checks so far",
                            ["service"], registry=registry)
        self.value = Gauge("meshobs_analysis_check_value", "Last measured value of a check",
                           ["service", "check"], registry=registry)
        self.passed = Gauge("meshobs_analysis_check_passed", "1 if the last check passed",
                            ["service", "check"], registry=registry)
        self.bound = Gauge("meshobs_analysis_check_threshold", "Bound of a check",
                           ["service", "check", "bound"], registry=registry)
        self.verdicts = Counter("meshobs_analysis_checks", "Checks run, by verdict",
                                ["service", "check", "verdict"], registry=registry)
        self.rollouts = Counter("meshobs_rollouts", "Finished rollouts, by result",
                                ["service", "result"], registry=registry)
        self._seen: set[int] = set()

    def record(self, spec: CanarySpec, state: RolloutState, weights: dict[str, int]) -> None:
        for version, weight in weights.items():
            self.weight.labels(spec.service, version).set(weight)
        self.phase.labels(spec.service).set(PHASE_CODES[state.phase])
        self.failed.labels(spec.service).set(state.failed_checks)
        if state.history and id(state.history[-1]) not in self._seen:
            step = state.history[-1]
            self._seen.add(id(step))
            for result in step.results:
                if result.value is not None:
                    self.value.labels(spec.service, result.name).set(result.value)
                self.passed.labels(spec.service, result.name).set(1 if result.passed else 0)
                self.verdicts.labels(spec.service, result.name, result.verdict).inc()
                for bound, limit in (("min", result.min), ("max", result.max)):
                    if limit is not None:
                        self.bound.labels(spec.service, result.name, bound).set(limit)
        if state.done:
            self.rollouts.labels(spec.service, state.phase.lower()).inc()
