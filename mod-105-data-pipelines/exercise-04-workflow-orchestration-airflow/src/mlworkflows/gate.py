"""The quality gate: absolute thresholds plus "no regression against production".

Pure, so the rule that decides whether a model reaches users is unit-testable without Airflow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mlworkflows.model_config import ModelConfig


@dataclass
class GateDecision:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    candidate: dict[str, float] = field(default_factory=dict)
    production: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_gate(config: ModelConfig, candidate: dict[str, float],
                  production: dict[str, float] | None) -> GateDecision:
    # BEGIN SOLUTION: every threshold, then no regression beyond max_regression vs production
    reasons: list[str] = []
    for metric, minimum in config.thresholds.model_dump().items():
        if candidate[metric] < minimum:
            reasons.append(f"{metric} {candidate[metric]:.4f} is below the threshold {minimum:.4f}")
    if production is not None:
        metric = config.primary_metric
        floor = production[metric] - config.max_regression
        if candidate[metric] < floor:
            reasons.append(f"{metric} {candidate[metric]:.4f} regresses versus production "
                           f"{production[metric]:.4f} (allowed drop {config.max_regression:.4f})")
    return GateDecision(passed=not reasons, reasons=reasons, candidate=candidate,
                        production=production)
    # END SOLUTION
