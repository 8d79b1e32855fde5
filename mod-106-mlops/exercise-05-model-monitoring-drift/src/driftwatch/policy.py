"""The retraining policy (YAML) and the decision it gives over a model's window history.

Pure: the same history and policy always give the same decision with the same id. That id
becomes the Airflow `dag_run_id`, so deciding twice (a retry, a second cron run) can never
start a second training run: Airflow answers 409 for a run id it already has.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from driftwatch.analysis import WindowResult
from driftwatch.errors import ConfigurationError, InsufficientDataError


class Policy(BaseModel):
    """When to retrain. Drops are absolute, on `metric` (reference minus window)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drifted_share: float = Field(default=0.25, gt=0, le=1)  # X: share of drifted features
    consecutive_windows: int = Field(default=2, ge=1)  # N: for this many windows in a row
    metric: str = Field(default="accuracy", pattern="^(accuracy|f1|precision|recall)$")
    max_realized_drop: float = Field(default=0.05, gt=0)  # Y on realised performance
    max_estimated_drop: float = Field(default=0.05, gt=0)  # Y on the CBPE estimate
    cooldown_hours: float = Field(default=48, ge=0)  # no second trigger within (window time)

    @classmethod
    def load(cls, path: Path | None) -> Policy:
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot read policy ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: invalid YAML: {exc}") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise ConfigurationError(f"{path}: {where}: {first['msg']}") from exc


@dataclass
class Decision:
    """What the policy concluded at one window, and what happened with it."""

    id: str
    model: str
    version: str
    window_id: str
    window_end: str
    action: str  # "retrain", "none" or "cooldown"
    reasons: list[str] = field(default_factory=list)
    triggered: bool = False
    dag_id: str | None = None
    dag_run_id: str | None = None
    airflow: str | None = None  # "created", "already existed", or the error
    decided_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        return cls(**data)


def decision_id(model: str, version: str, window_id: str, reasons: Sequence[str]) -> str:
    """Deterministic: model, version, window and the kinds of reason (not their numbers)."""
    kinds = sorted({r.split(":", 1)[0] for r in reasons})
    key = json.dumps([model, version, window_id, kinds])
    return "driftwatch-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def decide(history: Sequence[WindowResult], policy: Policy,
           previous: Sequence[Decision] = ()) -> Decision:
    """Judge the latest sufficient window in `history` (sorted by start)."""
    # BEGIN SOLUTION
    usable = [r for r in history if r.sufficient]
    if not usable:
        raise InsufficientDataError("no window with enough rows to decide on "
                                    "(insufficient data, not 'no drift')")
    latest = usable[-1]
    reasons: list[str] = []
    recent = usable[-policy.consecutive_windows:]
    if (len(recent) == policy.consecutive_windows
            and all((r.drifted_share or 0) >= policy.drifted_share for r in recent)):
        reasons.append(f"data drift: drifted share >= {policy.drifted_share:g} for "
                       f"{len(recent)} windows ({', '.join(latest.drifted_columns)})")
    reference = latest.reference_performance.get(policy.metric)
    labelled = [r for r in usable if r.realized is not None]
    if reference is not None and labelled:
        last = labelled[-1]
        drop = reference - (last.realized or {})[policy.metric]
        if drop >= policy.max_realized_drop:
            reasons.append(f"realized drop: {policy.metric} {drop:.3f} below reference "
                           f"(window {last.window_id})")
    if reference is not None and latest.estimated is not None:
        drop = reference - latest.estimated[policy.metric]
        if drop >= policy.max_estimated_drop:
            reasons.append(f"estimated drop: {policy.metric} {drop:.3f} below reference "
                           "(CBPE)")
    action = "retrain" if reasons else "none"
    if reasons:
        cooldown = timedelta(hours=policy.cooldown_hours)
        end = pd.Timestamp(latest.end)
        for earlier in previous:
            if (earlier.triggered and earlier.model == latest.model
                    and earlier.window_id != latest.window_id
                    and end - pd.Timestamp(earlier.window_end) < cooldown):
                action = "cooldown"
                break
    return Decision(id=decision_id(latest.model, latest.version, latest.window_id, reasons),
                    model=latest.model, version=latest.version, window_id=latest.window_id,
                    window_end=latest.end, action=action, reasons=reasons)
    # END SOLUTION
