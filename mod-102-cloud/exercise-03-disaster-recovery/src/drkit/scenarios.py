"""DR drill scenarios from YAML: a named list of steps with RTO/RPO targets.

A scenario is data, not code, so operators can add drills without touching drkit. Unknown
steps or fields are rejected up front with the line that is wrong, before anything runs
(a drill that fails half way through an outage rehearsal is worse than none).

    name: kill-primary
    targets: {rto_s: 30, rpo_s: 0}
    steps:
      - write: {rows: 50}
      - kill_primary: {}
      - failover: {}
      - verify: {}
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from drkit.errors import ConfigurationError

# Steps the runner knows, with what each does (shown by `drkit drill steps`).
STEPS: dict[str, str] = {
    "write": "write marker rows on the primary ({rows: N}); acknowledged ones are recorded",
    "backup": "take a base backup into the repository",
    "restore_point": "create a named restore point ({name: ...})",
    "kill_primary": "stop the primary with pg_ctl -m immediate (a crash)",
    "failover": "detect the failure, fence, promote the standby, switch the pointer",
    "failback": "pg_rewind the old primary and start it as a standby of the new one",
    "drop_table": "DROP TABLE the marker table by accident",
    "pitr": "restore to just before the incident into a new data dir and verify",
    "corrupt_backup": "flip a byte in the newest backup object ({mode: flip|delete})",
    "delete_wal": "delete one archived WAL segment after the newest backup",
    "region_outage": "stop the primary region's object store (moto server)",
    "restore": "restore the newest usable backup (falling back to older ones) and verify",
    "check_chain": "dry-run a restore to the latest WAL and report any gap ({expect_gap: bool})",
    "verify": "check markers: every acknowledged row before the incident is present",
}


class Targets(BaseModel):
    model_config = {"extra": "forbid"}
    rto_s: float = Field(default=60.0, gt=0)
    rpo_s: float = Field(default=0.0, ge=0)


class Step(BaseModel):
    action: str
    args: dict[str, Any] = Field(default_factory=dict)


class Scenario(BaseModel):
    model_config = {"extra": "forbid"}
    name: str
    description: str = ""
    targets: Targets = Field(default_factory=Targets)
    steps: list[Step]


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate a scenario; every error is one line naming the source."""
    # BEGIN SOLUTION: YAML mapping; each step a one-key mapping naming a known action
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source}: invalid YAML: {exc}".replace("\n", " ")) from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source}: expected a mapping with name, targets, steps")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ConfigurationError(f"{source}: 'steps' must be a non-empty list")
    steps = []
    for index, raw in enumerate(raw_steps, start=1):
        if isinstance(raw, str):
            raw = {raw: {}}
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ConfigurationError(f"{source}: step {index}: expected one action name")
        action, args = next(iter(raw.items()))
        if action not in STEPS:
            raise ConfigurationError(f"{source}: step {index}: unknown step {action!r} "
                                     f"(known: {', '.join(sorted(STEPS))})")
        if args is not None and not isinstance(args, dict):
            raise ConfigurationError(f"{source}: step {index} ({action}): arguments must be "
                                     "a mapping")
        steps.append({"action": action, "args": args or {}})
    try:
        return Scenario.model_validate({**data, "steps": steps})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"{source}: {where}: {first['msg']}") from exc
    # END SOLUTION
