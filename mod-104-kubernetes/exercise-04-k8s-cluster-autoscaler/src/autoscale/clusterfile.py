"""cluster.yaml: node groups, provisioner, scale-down and spot settings, and the service model
the simulator replays traffic against."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from autoscale import prices
from autoscale.errors import InputError
from autoscale.policies import cluster


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class NodeGroupSpec(_Model):
    name: str
    instance_type: str
    min_size: int = Field(default=0, ge=0)
    max_size: int = Field(default=10, ge=1)
    spot: bool = False
    priority: int = 0
    startup_seconds: float = Field(default=90.0, ge=0)
    price: float | None = Field(default=None, gt=0, description="override of the price table")

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSpec:
        if self.min_size > self.max_size:
            raise ValueError(f"minSize {self.min_size} > maxSize {self.max_size}")
        return self

    def to_group(self) -> cluster.NodeGroup:
        kind = prices.lookup(self.instance_type)
        return cluster.NodeGroup(
            name=self.name, instance_type=self.instance_type, cpu=kind.cpu,
            memory=kind.memory, gpu=kind.gpu,
            price=self.price if self.price is not None else kind.price(self.spot),
            min_size=self.min_size, max_size=self.max_size, spot=self.spot,
            priority=self.priority, startup_seconds=self.startup_seconds)


class ScaleDownSpec(_Model):
    utilization_threshold: float = Field(default=0.5, gt=0, le=1)
    unneeded_time: float = Field(default=600.0, ge=0)
    delay_after_add: float = Field(default=600.0, ge=0)


class SpotSpec(_Model):
    interruptions_per_node_hour: float = Field(default=0.0, ge=0)
    backoff_seconds: float = Field(default=600.0, ge=0)
    seed: int = 1


class PdbSpec(_Model):
    min_available: int | None = Field(default=None, ge=0)
    max_unavailable: int | None = Field(default=None, ge=0)


class ServiceSpec(_Model):
    """The service model: what one pod can serve and how latency grows with load."""

    name: str = "web"
    cpu_request: float = Field(default=0.5, gt=0, description="cores per pod")
    memory_request: float = Field(default=1.0, gt=0, description="GiB per pod")
    capacity_rps: float = Field(default=25.0, gt=0, description="per pod, at 100 % CPU")
    startup_seconds: float = Field(default=60.0, ge=0, description="image pull + boot + readiness")
    base_latency_ms: float = Field(default=40.0, gt=0)
    slo_latency_ms: float = Field(default=250.0, gt=0, description="p95 latency objective")
    slo_max_drop_ratio: float = Field(default=0.001, ge=0, le=1)
    idle_cpu: float = Field(default=0.02, ge=0, description="cores a pod burns with no traffic")
    pdb: PdbSpec | None = None


class ClusterFile(_Model):
    provisioner: Literal["cluster-autoscaler", "karpenter"] = "cluster-autoscaler"
    expander: cluster.Expander = cluster.Expander.LEAST_WASTE
    scale_down: ScaleDownSpec = ScaleDownSpec()
    consolidate_after: float = Field(default=60.0, ge=0)
    spot: SpotSpec = SpotSpec()
    node_groups: list[NodeGroupSpec] = Field(min_length=1)
    service: ServiceSpec = ServiceSpec()

    @model_validator(mode="after")
    def _unique(self) -> ClusterFile:
        names = [g.name for g in self.node_groups]
        if len(set(names)) != len(names):
            raise ValueError("node group names must be unique")
        return self

    def groups(self) -> list[cluster.NodeGroup]:
        return [g.to_group() for g in self.node_groups]


def load(path: Path) -> ClusterFile:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read cluster file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}".splitlines()[0]) from exc
    return parse(raw, str(path))


def parse(raw: object, source: str = "cluster.yaml") -> ClusterFile:
    if not isinstance(raw, dict):
        raise InputError(f"{source}: expected a mapping at the top level")
    try:
        spec = ClusterFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{source}: {where}: {first['msg']}") from exc
    spec.groups()  # unknown instance types fail here, with the table's names
    return spec
