"""canary.yaml: what to roll out and how to judge it (Flagger's Canary `analysis` block)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from meshobs.errors import SpecError
from meshobs.spec import MeshSpec, duration_seconds

Mode = Literal["canary", "ab", "bluegreen"]
Provider = Literal["local", "istio", "linkerd"]
Template = Literal["request-success-rate", "request-duration-p99"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricCheck(_Model):
    """One check: a built-in template or a custom PromQL `query`, and its bounds."""

    name: str = Field(pattern=r"^[a-z0-9][-a-z0-9_]*$")
    template: Template | None = None
    query: str | None = None  # custom PromQL; {service} {version} {namespace} {interval}...
    min: float | None = None
    max: float | None = None
    interval: str = "5s"  # the rate() window

    @model_validator(mode="after")
    def _one_source(self) -> MetricCheck:
        if (self.template is None) == (self.query is None):
            raise ValueError(f"check {self.name!r}: give exactly one of template or query")
        if self.min is None and self.max is None:
            raise ValueError(f"check {self.name!r}: give min or max (or both)")
        duration_seconds(self.interval)
        return self


class Webhook(_Model):
    name: str
    type: Literal["pre-rollout", "load-test", "post-rollout"]
    url: str
    timeout: str = "5s"
    metadata: dict[str, str] = Field(default_factory=dict)


class HeaderMatch(_Model):
    header: str = Field(pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
    exact: str = Field(min_length=1)


class Comparison(_Model):
    """Kayenta-style: is the canary's latency (or error) distribution worse than the
    primary's over the same window? One-sided Mann-Whitney U."""

    enabled: bool = False
    metric: Literal["latency", "errors"] = "latency"
    alpha: float = Field(default=0.01, gt=0, lt=0.5)
    window: str = "30s"
    step: str = "1s"
    min_samples: int = Field(default=8, ge=3)


class CanarySpec(_Model):
    service: str
    primary: str | None  # None: a first deployment, judged on absolute SLOs (flagger#676)
    canary: str
    mode: Mode = "canary"
    provider: Provider = "local"
    interval: str = "2s"
    step_weight: int = Field(default=20, ge=1, le=100)
    max_weight: int = Field(default=60, ge=1, le=100)
    threshold: int = Field(default=2, ge=1, description="failed checks before rollback")
    iterations: int = Field(default=4, ge=1, description="passing intervals (ab, bluegreen, "
                                                         "first deployments)")
    match: list[HeaderMatch] = Field(default_factory=list)
    metrics: list[MetricCheck] | None = None  # None: the service's SLOs from mesh.yaml
    webhooks: list[Webhook] = Field(default_factory=list)
    comparison: Comparison = Field(default_factory=Comparison)

    @model_validator(mode="after")
    def _consistent(self) -> CanarySpec:
        duration_seconds(self.interval)
        if self.mode == "ab" and not self.match:
            raise ValueError("mode ab needs at least one header in `match`")
        if self.step_weight > self.max_weight:
            raise ValueError(f"step_weight {self.step_weight} exceeds max_weight "
                             f"{self.max_weight}")
        if self.primary is not None and self.primary == self.canary:
            raise ValueError("primary and canary are the same version")
        return self

    @property
    def first_deployment(self) -> bool:
        return self.primary is None

    def checks(self, mesh: MeshSpec) -> list[MetricCheck]:
        """The checks to run: explicit ones, else the service's absolute SLOs."""
        if self.metrics is not None:
            return list(self.metrics)
        slo = mesh.services[self.service].slo
        return [MetricCheck(name="request-success-rate", template="request-success-rate",
                            min=slo.success_rate),
                MetricCheck(name="request-duration-p99", template="request-duration-p99",
                            max=slo.latency_p99_ms)]


def check_against_mesh(spec: CanarySpec, mesh: MeshSpec, source: str) -> None:
    if spec.service not in mesh.services:
        raise SpecError(f"{source}: service: unknown service {spec.service!r} "
                        f"(known: {', '.join(sorted(mesh.services))})")
    versions = mesh.services[spec.service].versions
    routes = mesh.route_for(spec.service).header_routes
    for match in spec.match:
        if not any(r.header.lower() == match.header.lower() and r.exact == match.exact
                   and r.version == spec.canary for r in routes):
            raise SpecError(f"{source}: match: mesh.yaml has no header route "
                            f"{match.header}={match.exact} -> {spec.canary}, so the data "
                            "plane would not send those requests to the canary")
    for role, version in (("primary", spec.primary), ("canary", spec.canary)):
        if version is not None and version not in versions:
            raise SpecError(f"{source}: {role}: unknown version {version!r} of "
                            f"{spec.service!r} (known: {', '.join(versions)})")


def parse_canary(data: Any, mesh: MeshSpec, source: str = "canary.yaml") -> CanarySpec:
    if not isinstance(data, dict):
        raise SpecError(f"{source}: expected a mapping at the top level")
    try:
        spec = CanarySpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: "
                 f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors()]
        raise SpecError(f"{source}: " + "; ".join(lines)) from exc
    check_against_mesh(spec, mesh, source)
    return spec


def load_canary(path: Path, mesh: MeshSpec) -> CanarySpec:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: invalid YAML: {exc}".replace("\n", " ")) from exc
    return parse_canary(data, mesh, str(path))
