"""fleet.yaml: GPU pools, teams with Kueue-style quotas and budgets, prices (pydantic).

Every error becomes one `FleetError` line naming the field (`teams.1.quota.h100: ...`).

MIG strategies (GPU Operator `mig.strategy`): `single` (default) gives each MIG pool one
profile, exposed as `nvidia.com/gpu`, so quotas count instances under the pool's name;
`mixed` lets a pool carry several profiles, each exposed as its own resource
`nvidia.com/mig-<profile>`, so a team's quota for such a pool is given per profile with
`<pool>/<profile>` keys (`h100-mig/1g.10gb: 7`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gpufleet.errors import FleetError
from gpufleet.profiles import MODELS

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
GPU_RESOURCE = "nvidia.com/gpu"


def mig_resource(profile: str) -> str:
    """The extended resource the device plugin exposes for a profile under `mixed`."""
    return f"nvidia.com/mig-{profile}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Pool(_Strict):
    """One node pool of identical GPUs, shared whole, by MIG slices or by time-slicing."""

    name: str = Field(pattern=DNS_LABEL, max_length=40)
    model: str
    gpus: int = Field(gt=0)
    gpus_per_node: int = Field(8, alias="gpusPerNode", gt=0)
    mig: dict[str, int] | None = None  # MIG layout per GPU: profile -> instances
    time_slicing_replicas: int | None = Field(None, alias="timeSlicingReplicas", ge=2, le=64)

    @property
    def nodes(self) -> int:
        return -(-self.gpus // self.gpus_per_node)

    @property
    def capacity(self) -> int:
        """Allocatable `nvidia.com/gpu` units (MIG `single` strategy: one per instance)."""
        if self.mig:
            return self.gpus * sum(self.mig.values())
        return self.gpus * (self.time_slicing_replicas or 1)

    @property
    def sharing(self) -> str:
        return "mig" if self.mig else ("time-slicing" if self.time_slicing_replicas else "none")

    @model_validator(mode="after")
    def _check(self) -> Pool:
        # BEGIN SOLUTION
        if self.model not in MODELS:
            raise ValueError(f"unknown GPU model {self.model!r} (known: {', '.join(MODELS)})")
        if self.mig and self.time_slicing_replicas:
            raise ValueError("a pool uses MIG or time-slicing, not both")
        if self.mig is not None:
            spec = MODELS[self.model]
            if not spec.max_compute_slices:
                raise ValueError(f"{self.model} does not support MIG")
            unknown = sorted(set(self.mig) - set(spec.mig_profiles))
            if unknown:
                raise ValueError(f"unknown MIG profile {unknown[0]!r} for {self.model} "
                                 f"(known: {', '.join(spec.mig_profiles)})")
            if any(count <= 0 for count in self.mig.values()):
                raise ValueError("MIG instance counts must be positive")
            slices = sum(spec.mig_profiles[p] * n for p, n in self.mig.items())
            if slices > spec.max_compute_slices:
                raise ValueError(f"MIG layout uses {slices} compute slices, {self.model} "
                                 f"has at most {spec.max_compute_slices}")
        # END SOLUTION
        return self

    def resources(self, strategy: str = "single") -> dict[str, int]:
        """Allocatable units per extended resource name for this pool under `strategy`."""
        # BEGIN SOLUTION
        if self.mig and strategy == "mixed":
            return {mig_resource(p): self.gpus * n for p, n in sorted(self.mig.items())}
        return {GPU_RESOURCE: self.capacity}
        # END SOLUTION


class Team(_Strict):
    """A tenant: namespace, Kueue ClusterQueue quota per pool (flavor), cohort, budget."""

    name: str = Field(pattern=DNS_LABEL, max_length=40)
    namespace: str = Field(pattern=DNS_LABEL, max_length=63)
    quota: dict[str, int]  # pool name -> nominal quota (nvidia.com/gpu units)
    cohort: str | None = Field(None, pattern=DNS_LABEL)
    borrowing_limit: int | None = Field(None, alias="borrowingLimit")
    lending_limit: int | None = Field(None, alias="lendingLimit")
    priority: int = Field(100, ge=0, le=1_000_000_000)
    monthly_gpu_hours: float | None = Field(None, alias="monthlyGpuHours", gt=0)

    def quota_for(self, pool: str, profile: str | None = None) -> int:
        """Nominal quota in `pool` (per profile for a MIG pool under `mixed`)."""
        if profile is not None and f"{pool}/{profile}" in self.quota:
            return self.quota[f"{pool}/{profile}"]
        return self.quota.get(pool, 0)

    @model_validator(mode="after")
    def _check(self) -> Team:
        # BEGIN SOLUTION
        for pool, value in self.quota.items():
            if value < 0:
                raise ValueError(f"quota.{pool}: must be >= 0 (got {value})")
        for field_name, limit in (("borrowingLimit", self.borrowing_limit),
                                  ("lendingLimit", self.lending_limit)):
            if limit is None:
                continue
            if limit < 0:
                raise ValueError(f"{field_name}: must be >= 0 (got {limit})")
            if self.cohort is None:
                raise ValueError(f"{field_name}: must be nil when cohort is empty")
        if self.lending_limit is not None and any(
                self.lending_limit > v for v in self.quota.values()):
            raise ValueError("lendingLimit: must be <= the nominal quota")
        # END SOLUTION
        return self


class MigSettings(_Strict):
    strategy: Literal["single", "mixed"] = "single"


class Fleet(_Strict):
    cluster: str = Field("gpufleet", pattern=DNS_LABEL)
    mig: MigSettings = MigSettings()
    scheduler: Literal["kueue", "volcano"] = "kueue"  # who queues the teams' workloads
    pools: list[Pool] = Field(min_length=1, max_length=16)
    teams: list[Team] = Field(min_length=1)
    prices: dict[str, Decimal]  # GPU model -> USD per GPU-hour
    scrape_interval_s: int = Field(30, alias="scrapeIntervalSeconds", gt=0)

    def pool(self, name: str) -> Pool:
        return next(p for p in self.pools if p.name == name)

    def team(self, name: str) -> Team:
        return next(t for t in self.teams if t.name == name)

    @model_validator(mode="after")
    def _check(self) -> Fleet:
        # BEGIN SOLUTION
        names = [p.name for p in self.pools]
        if len(set(names)) != len(names):
            raise ValueError("pools: names must be unique")
        for label, values in (("teams", [t.name for t in self.teams]),
                              ("teams.namespace", [t.namespace for t in self.teams])):
            if len(set(values)) != len(values):
                raise ValueError(f"{label}: must be unique")
        mixed = self.mig.strategy == "mixed"
        for pool in self.pools:
            if pool.mig and not mixed and len(pool.mig) != 1:
                raise ValueError(f"pools.{pool.name}: mig.strategy single needs one MIG "
                                 f"profile per pool (set mig.strategy: mixed)")
        for index, team in enumerate(self.teams):
            for key, value in team.quota.items():
                pool_name, _, profile = key.partition("/")
                where = f"teams.{index}.quota.{key}"
                if pool_name not in names:
                    raise ValueError(f"{where}: no such pool")
                pool = self.pool(pool_name)
                if profile:
                    if not (mixed and pool.mig):
                        raise ValueError(f"{where}: per-profile quota needs a MIG pool and "
                                         f"mig.strategy mixed")
                    if profile not in pool.mig:
                        raise ValueError(f"{where}: profile {profile} is not in the pool's "
                                         f"layout ({', '.join(sorted(pool.mig))})")
                elif mixed and pool.mig and value:
                    raise ValueError(f"{where}: under mig.strategy mixed give the quota per "
                                     f"profile ({pool_name}/<profile>)")
        for pool in self.pools:
            profiles: list[str | None] = [None]
            if mixed and pool.mig:
                profiles = list(sorted(pool.mig))
            for one, (resource, units) in zip(profiles, pool.resources(
                    self.mig.strategy).items(), strict=True):
                nominal = sum(t.quota_for(pool.name, one) for t in self.teams)
                if nominal > units:
                    what = f"{pool.name}/{one}" if one else pool.name
                    raise ValueError(f"pools.{what}: teams' nominal quota {nominal} exceeds "
                                     f"its capacity {units} ({resource})")
            if pool.model not in self.prices:
                raise ValueError(f"prices.{pool.model}: missing price for pool {pool.name}")
        for model, price in self.prices.items():
            if price < 0:
                raise ValueError(f"prices.{model}: must be >= 0")
        # END SOLUTION
        return self


def _one_line(error: ValidationError, source: str) -> str:
    item = error.errors()[0]
    where = ".".join(str(part) for part in item["loc"])
    message = re.sub(r"^Value error, ", "", item["msg"])
    return f"{source}: {where + ': ' if where else ''}{message}"


def parse(data: object, source: str = "fleet.yaml") -> Fleet:
    """Validate a mapping; raise FleetError with one line naming the first bad field."""
    if not isinstance(data, dict):
        raise FleetError(f"{source}: expected a mapping at the top level")
    try:
        return Fleet.model_validate(data)
    except ValidationError as exc:
        raise FleetError(_one_line(exc, source)) from exc


def load(path: Path) -> Fleet:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise FleetError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FleetError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from exc
    return parse(data, str(Path(path).name))


Sharing = Literal["none", "mig", "time-slicing"]
