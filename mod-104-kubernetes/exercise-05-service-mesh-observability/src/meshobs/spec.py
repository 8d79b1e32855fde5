"""The one `mesh.yaml`: services, versions, ports, SLOs, traffic policies and routes.

Every renderer (Istio, Linkerd, HAProxy, kustomize) reads this model, so a policy is written
once and the local data plane enforces exactly what the mesh manifests say. Validation that a
schema cannot express (a route naming a service that does not exist, weights not summing to
100, an authorization naming an unknown caller) happens here, with one message per problem.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from meshobs.errors import SpecError

DURATION = re.compile(r"^(\d+(\.\d+)?)(ms|s|m|h)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


RetryOn = Literal["connect-failure", "refused-stream", "reset", "5xx", "gateway-error",
                  "retriable-4xx"]


def duration_seconds(text: str) -> float:
    """'250ms' -> 0.25, '2s' -> 2.0: the one duration syntax of mesh.yaml (Istio's)."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r} (use e.g. 250ms, 2s, 1m)")
    return float(match.group(1)) * _UNITS[match.group(3)]


def _check_duration(value: str) -> str:
    duration_seconds(value)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retries(_Model):
    """Retry policy of a route (Istio HTTPRetry; HAProxy `retries` + `retry-on`)."""

    attempts: int = Field(default=2, ge=0, le=10)
    per_try_timeout: str = "1s"
    # Istio retryOn names; the HAProxy renderer maps them to its own keywords.
    retry_on: list[RetryOn] = Field(
        default_factory=lambda: list[RetryOn](["connect-failure", "refused-stream"]))

    @model_validator(mode="after")
    def _durations(self) -> Retries:
        _check_duration(self.per_try_timeout)
        return self


class OutlierDetection(_Model):
    consecutive_5xx_errors: int = Field(default=5, ge=1)
    interval: str = "5s"
    base_ejection_time: str = "30s"
    max_ejection_percent: int = Field(default=50, ge=0, le=100)

    @model_validator(mode="after")
    def _durations(self) -> OutlierDetection:
        _check_duration(self.interval)
        _check_duration(self.base_ejection_time)
        return self


class ConnectionPool(_Model):
    max_connections: int = Field(default=100, ge=1)
    http1_max_pending_requests: int = Field(default=100, ge=1)
    max_requests_per_connection: int = Field(default=0, ge=0)


class Fault(_Model):
    """Fault injection (Istio HTTPFaultInjection): for resilience drills, off by default."""

    delay_percent: float = Field(default=0.0, ge=0, le=100)
    fixed_delay: str = "1s"
    abort_percent: float = Field(default=0.0, ge=0, le=100)
    abort_http_status: int = Field(default=503, ge=200, le=599)

    @model_validator(mode="after")
    def _durations(self) -> Fault:
        _check_duration(self.fixed_delay)
        return self

    @property
    def enabled(self) -> bool:
        return self.delay_percent > 0 or self.abort_percent > 0


class TrafficPolicy(_Model):
    timeout: str = "3s"
    retries: Retries = Field(default_factory=Retries)
    outlier_detection: OutlierDetection = Field(default_factory=OutlierDetection)
    connection_pool: ConnectionPool = Field(default_factory=ConnectionPool)
    fault: Fault = Field(default_factory=Fault)
    health_check_path: str = "/healthz"

    @model_validator(mode="after")
    def _durations(self) -> TrafficPolicy:
        _check_duration(self.timeout)
        return self


class Slo(_Model):
    """Absolute objectives: what a first deployment is analysed against (flagger#676)."""

    success_rate: float = Field(default=99.0, gt=0, le=100, description="percent of non-5xx")
    latency_p99_ms: float = Field(default=500.0, gt=0)


class Service(_Model):
    port: int = Field(default=8080, ge=1, le=65535)
    versions: list[str] = Field(default_factory=lambda: ["v1"], min_length=1)
    callers: list[str] = Field(default_factory=list,
                               description="services allowed to call this one (mTLS identity)")
    slo: Slo = Field(default_factory=Slo)
    traffic: TrafficPolicy = Field(default_factory=TrafficPolicy)


class HeaderRoute(_Model):
    """Requests whose `header` equals `exact` go to `version` (A/B testing, previews)."""

    header: str = Field(pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
    exact: str = Field(min_length=1)
    version: str


class Route(_Model):
    service: str
    weights: dict[str, int]
    header_routes: list[HeaderRoute] = Field(default_factory=list)


class Telemetry(_Model):
    otlp_provider: str = "otel-collector"
    otlp_service: str = "otel-collector.observability.svc.cluster.local"
    otlp_port: int = Field(default=4318, ge=1, le=65535)
    sampling_percent: float = Field(default=10.0, ge=0, le=100)


class MeshSpec(_Model):
    name: str = Field(default="model-serving", pattern=NAME)
    namespace: str = Field(default="serving", pattern=NAME)
    trust_domain: str = "cluster.local"
    services: dict[str, Service]
    routes: list[Route] = Field(default_factory=list)
    telemetry: Telemetry = Field(default_factory=Telemetry)

    @model_validator(mode="after")
    def _references(self) -> MeshSpec:
        problems = reference_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def spiffe_id(self, service: str) -> str:
        """The workload identity Istio gives a pod: trust domain / namespace / service account."""
        return f"spiffe://{self.trust_domain}/ns/{self.namespace}/sa/{service}"

    def route_for(self, service: str) -> Route:
        """The route of `service`; a service without one sends everything to its first version."""
        for route in self.routes:
            if route.service == service:
                return route
        versions = self.services[service].versions
        return Route(service=service, weights={v: (100 if i == 0 else 0)
                                               for i, v in enumerate(versions)})

    def with_weights(self, service: str, weights: dict[str, int]) -> MeshSpec:
        """A copy with `service`'s weights replaced (what a rollout step renders)."""
        routes = [r for r in self.routes if r.service != service]
        old = self.route_for(service)
        routes.append(Route(service=service, weights=dict(weights),
                            header_routes=list(old.header_routes)))
        return self.model_copy(update={"routes": routes})


def reference_problems(spec: MeshSpec) -> list[str]:
    """Cross-references a schema cannot check, one readable message each."""
    # BEGIN SOLUTION
    problems: list[str] = []
    known = sorted(spec.services)
    for name, service in spec.services.items():
        if len(set(service.versions)) != len(service.versions):
            problems.append(f"services.{name}.versions: duplicate version")
        for caller in service.callers:
            if caller not in spec.services:
                problems.append(f"services.{name}.callers: unknown service {caller!r} "
                                f"(known: {', '.join(known)})")
    seen: set[str] = set()
    for index, route in enumerate(spec.routes):
        where = f"routes[{index}]"
        if route.service not in spec.services:
            problems.append(f"{where}.service: unknown service {route.service!r} "
                            f"(known: {', '.join(known)})")
            continue
        if route.service in seen:
            problems.append(f"{where}.service: a second route for {route.service!r}")
        seen.add(route.service)
        versions = spec.services[route.service].versions
        for version, weight in route.weights.items():
            if version not in versions:
                problems.append(f"{where}.weights: unknown version {version!r} of "
                                f"{route.service!r} (known: {', '.join(versions)})")
            if not 0 <= weight <= 100:
                problems.append(f"{where}.weights.{version}: {weight} is not within 0-100")
        total = sum(route.weights.values())
        if total != 100:
            problems.append(f"{where}.weights: weights of {route.service!r} sum to {total}, "
                            "not 100")
        for h_index, header_route in enumerate(route.header_routes):
            if header_route.version not in versions:
                problems.append(f"{where}.header_routes[{h_index}].version: unknown version "
                                f"{header_route.version!r} of {route.service!r}")
    return problems
    # END SOLUTION


def parse_spec(data: Any, source: str = "mesh.yaml") -> MeshSpec:
    """Validate a parsed mesh.yaml; errors become one `SpecError` line per problem."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: expected a mapping at the top level")
    try:
        return MeshSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for item in exc.errors():
            location = ".".join(str(part) for part in item["loc"])
            message = str(item["msg"]).removeprefix("Value error, ")
            lines.append(f"{location}: {message}" if location else message)
        raise SpecError(f"{source}: " + "; ".join(lines)) from exc


def load_spec(path: Path) -> MeshSpec:
    """Read and validate mesh.yaml."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: invalid YAML: {exc}".replace("\n", " ")) from exc
    return parse_spec(data, str(path))


def default_spec() -> MeshSpec:
    """The demo stack: gateway -> model v1/v2 -> features (also `examples/mesh.yaml`)."""
    return MeshSpec(
        services={
            "gateway": Service(callers=[]),
            "model": Service(versions=["v1", "v2"], callers=["gateway"]),
            "features": Service(callers=["model"]),
        },
        routes=[Route(service="model", weights={"v1": 100, "v2": 0},
                      header_routes=[HeaderRoute(header="x-canary", exact="always",
                                                 version="v2")])],
    )
