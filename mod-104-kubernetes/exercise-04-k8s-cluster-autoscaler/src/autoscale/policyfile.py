"""policy.yaml: one file describing how a workload scales, from which every manifest is
rendered and every simulated policy takes its parameters.

HPA metrics and behavior use the autoscaling/v2 field names, so what you write is what the
API server gets; the KEDA, VPA, predictive, overlay and cluster sections are ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from autoscale import quantity
from autoscale.errors import InputError, PolicyError
from autoscale.policies import hpa, keda, predictive, vpa
from autoscale.policies.hpa import HPASpec
from autoscale.policies.keda import KedaSpec
from autoscale.policies.vpa import ContainerPolicy

METRIC_TYPES = ("Resource", "Pods", "Object", "External")


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Target(_Model):
    api_version: str = "apps/v1"
    kind: str = "Deployment"
    name: str


class Replicas(_Model):
    min: int = Field(default=1, ge=0)
    max: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _order(self) -> Replicas:
        if self.min > self.max:
            raise ValueError(f"replicas.min {self.min} > replicas.max {self.max}")
        return self


class KedaTrigger(_Model):
    type: Literal["prometheus", "external"]
    metadata: dict[str, str]
    name: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> KedaTrigger:
        need = {"prometheus": ("serverAddress", "query", "threshold"),
                "external": ("scalerAddress",)}[self.type]
        missing = [k for k in need if k not in self.metadata]
        if missing:
            raise ValueError(f"{self.type} trigger needs metadata {', '.join(missing)}")
        return self


class KedaFallback(_Model):
    failure_threshold: int = Field(ge=1)
    replicas: int = Field(ge=1)


class KedaSection(_Model):
    polling_interval: int = Field(default=30, ge=1)
    cooldown_period: int = Field(default=300, ge=0)
    min_replica_count: int | None = Field(default=None, ge=0)
    idle_replica_count: int | None = Field(default=None, ge=0)
    fallback: KedaFallback | None = None
    triggers: list[KedaTrigger] = Field(min_length=1)


class VpaSection(_Model):
    update_mode: Literal["Off", "Initial", "Recreate", "Auto"] = "Off"
    container: str = "*"
    controlled_resources: list[Literal["cpu", "memory"]] = ["cpu", "memory"]
    min_allowed: dict[str, str] = Field(default_factory=dict)
    max_allowed: dict[str, str] = Field(default_factory=dict)


class PredictiveSection(_Model):
    method: predictive.Method = predictive.Method.HOLT_WINTERS
    bucket_seconds: int = Field(default=900, ge=60)
    lead_seconds: float | None = Field(default=None, ge=0, description="pod + node start-up")
    target_utilization: float = Field(default=70.0, gt=0, le=100)


class Overlay(_Model):
    replicas: Replicas | None = None
    namespace: str | None = None


class PolicyFile(_Model):
    name: str
    namespace: str = "default"
    target: Target
    replicas: Replicas = Replicas()
    scaler: Literal["hpa", "keda"] = "hpa"
    hpa: dict[str, Any] = Field(default_factory=dict)  # metrics + behavior, autoscaling/v2
    keda: KedaSection | None = None
    vpa: VpaSection | None = None
    predictive: PredictiveSection = PredictiveSection()
    overlays: dict[str, Overlay] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyFile:
        if self.scaler == "keda" and self.keda is None:
            raise ValueError("scaler is keda but there is no keda section")
        if self.scaler == "hpa" and not self.hpa.get("metrics"):
            raise ValueError("scaler is hpa but hpa.metrics is empty")
        if self.scaler == "hpa" and self.replicas.min < 1:
            raise ValueError("an HPA needs minReplicas >= 1 (scale to zero needs keda)")
        for env, overlay in self.overlays.items():
            if self.scaler == "hpa" and overlay.replicas and overlay.replicas.min < 1:
                raise ValueError(f"overlay {env}: an HPA needs minReplicas >= 1 "
                                 f"(scale to zero needs keda)")
        return self

    # ------------------------------------------------------------------ engine objects

    def hpa_spec(self, replicas: Replicas | None = None) -> HPASpec:
        replicas = replicas or self.replicas
        metrics = tuple(parse_metric(m, i) for i, m in enumerate(self.hpa.get("metrics", [])))
        return hpa.HPASpec(max(replicas.min, 1), replicas.max, metrics,
                           parse_behavior(self.hpa.get("behavior")))

    def keda_spec(self) -> KedaSpec:
        if self.keda is None:
            raise PolicyError("the policy has no keda section")
        trigger = next((t for t in self.keda.triggers if t.type == "prometheus"), None)
        if trigger is None:
            raise PolicyError("simulating KEDA needs a prometheus trigger (threshold)")
        fallback = self.keda.fallback
        return keda.KedaSpec(
            threshold=_number(trigger.metadata["threshold"], "threshold"),
            activation_threshold=_number(trigger.metadata.get("activationThreshold", "0"),
                                         "activationThreshold"),
            min_replicas=self.keda.min_replica_count if self.keda.min_replica_count is not None
            else self.replicas.min,
            max_replicas=self.replicas.max, polling_interval=self.keda.polling_interval,
            cooldown_period=self.keda.cooldown_period, idle_replicas=self.keda.idle_replica_count,
            fallback_failure_threshold=fallback.failure_threshold if fallback else None,
            fallback_replicas=fallback.replicas if fallback else None,
            behavior=parse_behavior(self.hpa.get("behavior")))

    def vpa_policy(self) -> ContainerPolicy:
        section = self.vpa or VpaSection()

        def resources(values: dict[str, str], what: str) -> vpa.Resources | None:
            if not values:
                return None
            return vpa.Resources(quantity.parse(values.get("cpu", "0"), f"{what}.cpu"),
                                 quantity.parse(values.get("memory", "0"), f"{what}.memory"))

        low = resources(section.min_allowed, "vpa.minAllowed")
        high = resources(section.max_allowed, "vpa.maxAllowed")
        if high is not None:
            high = vpa.Resources(high.cpu or float("inf"), high.memory or float("inf"))
        return vpa.ContainerPolicy(low, high)

    def cpu_target(self) -> float:
        """The CPU utilization target of the HPA (70 when the HPA has none)."""
        for metric in self.hpa_spec().metrics if self.hpa.get("metrics") else ():
            if metric.type is hpa.MetricType.RESOURCE and metric.name == "cpu" \
                    and metric.target_type is hpa.TargetType.UTILIZATION:
                return float(metric.target)
        return 70.0


def _number(text: str, what: str) -> float:
    try:
        return quantity.parse(text, what)
    except InputError:
        raise PolicyError(f"{what}: {text!r} is not a number") from None


def parse_metric(raw: Any, index: int) -> hpa.MetricSpec:
    """One autoscaling/v2 MetricSpec -> the engine's MetricSpec (unknown types rejected)."""
    where = f"hpa.metrics[{index}]"
    if not isinstance(raw, dict) or "type" not in raw:
        raise PolicyError(f"{where}: a metric needs a type ({', '.join(METRIC_TYPES)})")
    kind = raw["type"]
    if kind not in METRIC_TYPES:
        raise PolicyError(f"{where}: unknown metric type {kind!r} "
                          f"(expected one of {', '.join(METRIC_TYPES)})")
    body = raw.get({"Resource": "resource", "Pods": "pods", "Object": "object",
                    "External": "external"}[kind])
    if not isinstance(body, dict) or not isinstance(body.get("target"), dict):
        raise PolicyError(f"{where}: {kind} metric needs its {kind.lower()}.target block")
    name = body.get("name") if kind == "Resource" else (body.get("metric") or {}).get("name")
    if not name:
        raise PolicyError(f"{where}: metric name missing")
    target = body["target"]
    target_type = target.get("type")
    field_name = {"Utilization": "averageUtilization", "AverageValue": "averageValue",
                  "Value": "value"}.get(str(target_type))
    if field_name is None:
        raise PolicyError(f"{where}: unknown target type {target_type!r} "
                          f"(expected Utilization, AverageValue or Value)")
    if field_name not in target:
        raise PolicyError(f"{where}: target type {target_type} needs {field_name}")
    value = _number(str(target[field_name]), f"{where}.target.{field_name}")
    return hpa.MetricSpec(hpa.MetricType(kind), str(name), hpa.TargetType(target_type), value)


def _rules(raw: Any, default: hpa.ScalingRules, where: str) -> hpa.ScalingRules:
    if raw is None:
        return default
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: must be a mapping")
    policies = raw.get("policies")
    parsed = default.policies
    if policies is not None:
        try:
            parsed = tuple(hpa.HPAScalingPolicy(hpa.PolicyType(p["type"]), int(p["value"]),
                                                int(p["periodSeconds"])) for p in policies)
        except (KeyError, ValueError, TypeError) as exc:
            raise PolicyError(f"{where}.policies: each needs type Pods|Percent, value and "
                              f"periodSeconds ({exc})") from exc
    select = raw.get("selectPolicy", "Max")
    if select not in ("Max", "Min", "Disabled"):
        raise PolicyError(f"{where}.selectPolicy: {select!r} is not Max, Min or Disabled")
    return hpa.ScalingRules(int(raw.get("stabilizationWindowSeconds",
                                        default.stabilization_window_seconds)),
                            parsed, hpa.SelectPolicy(select))


def parse_behavior(raw: Any) -> hpa.Behavior:
    default = hpa.Behavior.default()
    if raw is None:
        return default
    return hpa.Behavior(_rules(raw.get("scaleUp"), default.scale_up, "hpa.behavior.scaleUp"),
                        _rules(raw.get("scaleDown"), default.scale_down,
                               "hpa.behavior.scaleDown"))


def parse(raw: object, source: str = "policy.yaml") -> PolicyFile:
    if not isinstance(raw, dict):
        raise InputError(f"{source}: expected a mapping at the top level")
    try:
        policy = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise PolicyError(f"{source}: {where}: {first['msg'].removeprefix('Value error, ')}"
                          ) from exc
    try:
        if policy.hpa.get("metrics"):
            policy.hpa_spec()
        if policy.keda is not None and any(t.type == "prometheus" for t in policy.keda.triggers):
            policy.keda_spec()
        policy.vpa_policy()
    except PolicyError as exc:
        raise PolicyError(f"{source}: {exc}") from exc
    return policy


def load(path: Path) -> PolicyFile:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read policy file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from exc
    return parse(raw, str(path))
