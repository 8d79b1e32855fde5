"""The MLModel spec as typed values, with the checks the CRD schema cannot express.

Pure: no Kubernetes client, no I/O. The admission webhook, the reconciler (when the webhook
is off, an invalid spec becomes `Degraded`) and `modelop validate` all call `parse_spec`, so
the three can never disagree about what is valid.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

GROUP = "aiinfra.dev"
VERSION = "v1alpha1"
PLURAL = "mlmodels"
KIND = "MLModel"

URI_SCHEMES = ("s3", "gs", "hf", "file")
FRAMEWORKS = ("sklearn", "xgboost", "pytorch", "tensorflow", "onnx", "huggingface")
ROUTINGS = ("replicas", "istio", "gatewayAPI")
# The server image a framework gets when the spec names none (the mutating webhook fills it
# in; the reconciler uses the same table, so a spec created while the webhook was off works).
DEFAULT_IMAGES: dict[str, str] = {
    "sklearn": "docker.io/seldonio/mlserver:1.6.1-sklearn",
    "xgboost": "docker.io/seldonio/mlserver:1.6.1-xgboost",
    "pytorch": "docker.io/pytorch/torchserve:0.12.0-cpu",
    "tensorflow": "docker.io/tensorflow/serving:2.18.0",
    "onnx": "mcr.microsoft.com/onnxruntime/server:latest",
    "huggingface": "docker.io/kserve/huggingfaceserver:v0.14.1",
}
DEFAULT_STEPS = (10, 50)
MAX_REPLICAS = 100
_URI = re.compile(r"^(?P<scheme>[a-z0-9]+)://(?P<rest>.+)$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
_DURATION = re.compile(r"^[0-9]+[smh]$")


class SpecError(ValueError):
    """An invalid MLModel spec; `problems` lists every reason, each naming its field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Predictor:
    """What one set of model-server pods runs: the stable model or the canary candidate."""

    uri: str
    framework: str
    image: str
    port: int = 8080

    @property
    def revision(self) -> str:
        """A short content hash: pods of the same revision run the same model and server."""
        return revision_of(self)


@dataclass(frozen=True)
class Resources:
    cpu: str = "500m"
    memory: str = "1Gi"
    cpu_limit: str | None = None
    memory_limit: str | None = None
    gpu: int = 0


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int = 1
    max_replicas: int = 5
    target_cpu: int = 70


@dataclass(frozen=True)
class Gates:
    """Prometheus checks a canary step must pass; None means "not checked"."""

    max_error_rate: float | None = None
    max_p95_latency_seconds: float | None = None
    window: str = "1m"

    @property
    def empty(self) -> bool:
        return self.max_error_rate is None and self.max_p95_latency_seconds is None


@dataclass(frozen=True)
class Canary:
    predictor: Predictor
    steps: tuple[int, ...] = DEFAULT_STEPS
    step_seconds: int = 30
    gates: Gates = field(default_factory=Gates)
    routing: str = "replicas"
    gateway: str | None = None  # parentRef of the HTTPRoute (gatewayAPI routing)
    progress_deadline_seconds: int = 600


@dataclass(frozen=True)
class ModelSpec:
    predictor: Predictor
    replicas: int = 1
    resources: Resources = field(default_factory=Resources)
    autoscaling: Autoscaling | None = None
    min_available: int | None = None  # PodDisruptionBudget when set
    service_monitor: bool = False
    canary: Canary | None = None


def revision_of(predictor: Predictor) -> str:
    blob = json.dumps([predictor.uri, predictor.framework, predictor.image, predictor.port])
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def _int(raw: Any, name: str, problems: list[str], default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int):
        problems.append(f"{name} must be an integer, got {raw!r}")
        return default
    return raw


def _number(raw: Any, name: str, problems: list[str]) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        problems.append(f"{name} must be a number, got {raw!r}")
        return None
    return float(raw)


def check_uri(uri: Any, name: str, framework: str | None, problems: list[str]) -> str:
    """s3://, gs://, hf:// (Hugging Face Hub, only for the huggingface framework) or file://."""
    if not isinstance(uri, str) or not uri:
        problems.append(f"{name} is required")
        return ""
    match = _URI.match(uri)
    if match is None or match["scheme"] not in URI_SCHEMES:
        scheme = match["scheme"] if match else uri.split(":", 1)[0]
        problems.append(f"{name} {uri!r}: unsupported scheme {scheme!r} "
                        f"(use one of {', '.join(s + '://' for s in URI_SCHEMES)})")
    elif match["scheme"] == "hf" and framework not in (None, "huggingface"):
        problems.append(f"{name} {uri!r}: hf:// models need framework huggingface, "
                        f"not {framework}")
    return uri


def parse_spec(spec: Mapping[str, Any] | None) -> ModelSpec:
    """The typed spec, or SpecError with every problem found (not just the first)."""
    # BEGIN SOLUTION: collect every problem, then raise SpecError(problems)
    problems: list[str] = []
    spec = dict(spec or {})
    model = spec.get("model") or {}
    server = spec.get("server") or {}
    framework = model.get("framework")
    if framework not in FRAMEWORKS:
        problems.append(f"spec.model.framework {framework!r} is unknown "
                        f"(one of {', '.join(FRAMEWORKS)})")
        framework = None
    uri = check_uri(model.get("uri"), "spec.model.uri", framework, problems)
    image = server.get("image") or (DEFAULT_IMAGES.get(framework) if framework else None) or ""
    port = _int(server.get("port"), "spec.server.port", problems, 8080)
    if not 1 <= port <= 65535:
        problems.append(f"spec.server.port {port} is out of range 1-65535")
    predictor = Predictor(uri=uri, framework=framework or "", image=image, port=port)

    replicas = _int(spec.get("replicas"), "spec.replicas", problems, 1)
    if not 0 <= replicas <= MAX_REPLICAS:
        problems.append(f"spec.replicas {replicas} is out of range 0-{MAX_REPLICAS}")

    raw_res = spec.get("resources") or {}
    requests, limits = raw_res.get("requests") or {}, raw_res.get("limits") or {}
    for label, value in (("spec.resources.requests.cpu", requests.get("cpu")),
                         ("spec.resources.requests.memory", requests.get("memory")),
                         ("spec.resources.limits.cpu", limits.get("cpu")),
                         ("spec.resources.limits.memory", limits.get("memory"))):
        if value is not None and not _QUANTITY.match(str(value)):
            problems.append(f"{label} {value!r} is not a Kubernetes quantity")
    gpu = _int(raw_res.get("gpu"), "spec.resources.gpu", problems, 0)
    if gpu < 0:
        problems.append(f"spec.resources.gpu {gpu} must be >= 0")
    resources = Resources(cpu=str(requests.get("cpu", "500m")),
                          memory=str(requests.get("memory", "1Gi")),
                          cpu_limit=str(limits["cpu"]) if "cpu" in limits else None,
                          memory_limit=str(limits["memory"]) if "memory" in limits else None,
                          gpu=gpu)

    autoscaling = None
    raw_as = spec.get("autoscaling")
    if raw_as and raw_as.get("enabled", True):
        autoscaling = Autoscaling(
            min_replicas=_int(raw_as.get("minReplicas"), "spec.autoscaling.minReplicas",
                              problems, 1),
            max_replicas=_int(raw_as.get("maxReplicas"), "spec.autoscaling.maxReplicas",
                              problems, 5),
            target_cpu=_int(raw_as.get("targetCPUUtilization"),
                            "spec.autoscaling.targetCPUUtilization", problems, 70))
        if autoscaling.min_replicas < 1:
            problems.append("spec.autoscaling.minReplicas must be >= 1")
        if autoscaling.min_replicas > autoscaling.max_replicas:
            problems.append(f"spec.autoscaling.minReplicas {autoscaling.min_replicas} is above "
                            f"maxReplicas {autoscaling.max_replicas}")
        if replicas > autoscaling.max_replicas:
            problems.append(f"spec.replicas {replicas} is above "
                            f"spec.autoscaling.maxReplicas {autoscaling.max_replicas}")
        if not 1 <= autoscaling.target_cpu <= 100:
            problems.append("spec.autoscaling.targetCPUUtilization must be 1-100")

    min_available = None
    raw_pdb = spec.get("disruptionBudget")
    if raw_pdb:
        min_available = _int(raw_pdb.get("minAvailable"),
                             "spec.disruptionBudget.minAvailable", problems, 1)
        floor = autoscaling.min_replicas if autoscaling else replicas
        if min_available >= max(floor, 1) and floor > 0:
            problems.append(f"spec.disruptionBudget.minAvailable {min_available} leaves no "
                            f"pod evictable with {floor} replica(s): drains would block")

    canary = _parse_canary(spec.get("canary"), predictor, problems)
    if problems:
        raise SpecError(problems)
    return ModelSpec(predictor=predictor, replicas=replicas, resources=resources,
                     autoscaling=autoscaling, min_available=min_available,
                     service_monitor=bool((spec.get("monitoring") or {}).get("serviceMonitor")),
                     canary=canary)
    # END SOLUTION


def _parse_canary(raw: Mapping[str, Any] | None, stable: Predictor,
                  problems: list[str]) -> Canary | None:
    """A canary needs a different model URI or image, increasing steps and at least one gate."""
    # BEGIN SOLUTION: candidate differs, steps 1-99 increasing, a gate, routing
    if not raw:
        return None
    uri = raw.get("modelUri") or stable.uri
    if raw.get("modelUri"):
        check_uri(uri, "spec.canary.modelUri", stable.framework or None, problems)
    image = raw.get("image") or stable.image
    candidate = Predictor(uri=uri, framework=stable.framework, image=image, port=stable.port)
    if candidate == stable:
        problems.append("spec.canary must change spec.model.uri or the server image "
                        "(set canary.modelUri or canary.image)")
    steps = raw.get("steps") or list(DEFAULT_STEPS)
    if not isinstance(steps, list) or not all(isinstance(s, int) and not isinstance(s, bool)
                                              for s in steps):
        problems.append(f"spec.canary.steps must be a list of integers, got {steps!r}")
        steps = list(DEFAULT_STEPS)
    if any(not 1 <= s <= 99 for s in steps) or steps != sorted(set(steps)):
        problems.append(f"spec.canary.steps {steps} must be strictly increasing percentages "
                        "between 1 and 99 (100 is the promotion)")
    raw_gates = raw.get("gates") or {}
    gates = Gates(
        max_error_rate=_number(raw_gates.get("maxErrorRate"), "spec.canary.gates.maxErrorRate",
                               problems),
        max_p95_latency_seconds=_number(raw_gates.get("maxP95LatencySeconds"),
                                        "spec.canary.gates.maxP95LatencySeconds", problems),
        window=str(raw_gates.get("window", "1m")))
    if gates.empty:
        problems.append("spec.canary.gates needs maxErrorRate or maxP95LatencySeconds: "
                        "a canary without gates is promoted blind")
    if gates.max_error_rate is not None and not 0 <= gates.max_error_rate <= 1:
        problems.append("spec.canary.gates.maxErrorRate must be between 0 and 1")
    if not _DURATION.match(gates.window):
        problems.append(f"spec.canary.gates.window {gates.window!r} is not a duration "
                        "like 30s, 5m or 1h")
    routing = raw.get("trafficRouting", "replicas")
    if routing not in ROUTINGS:
        problems.append(f"spec.canary.trafficRouting {routing!r} is unknown "
                        f"(one of {', '.join(ROUTINGS)})")
    gateway = raw.get("gateway")
    if routing == "gatewayAPI" and not gateway:
        problems.append("spec.canary.gateway (the Gateway's name) is required with "
                        "trafficRouting gatewayAPI")
    step_seconds = _int(raw.get("stepSeconds"), "spec.canary.stepSeconds", problems, 30)
    deadline = _int(raw.get("progressDeadlineSeconds"), "spec.canary.progressDeadlineSeconds",
                    problems, 600)
    if step_seconds < 0 or deadline < 1:
        problems.append("spec.canary.stepSeconds must be >= 0 and progressDeadlineSeconds >= 1")
    return Canary(predictor=candidate, steps=tuple(steps), step_seconds=step_seconds,
                  gates=gates, routing=routing, gateway=gateway,
                  progress_deadline_seconds=deadline)
    # END SOLUTION


def defaults_patch(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What the mutating webhook adds: the framework's server image, port, and canary
    defaults. Only fields that are absent; returns {} when nothing is missing."""
    # BEGIN SOLUTION: only absent fields: image, port, replicas, canary defaults
    patch: dict[str, Any] = {}
    framework = (spec.get("model") or {}).get("framework")
    server = dict(spec.get("server") or {})
    if not server.get("image") and framework in DEFAULT_IMAGES:
        server["image"] = DEFAULT_IMAGES[framework]
    server.setdefault("port", 8080)
    if server != (spec.get("server") or {}):
        patch["server"] = server
    if "replicas" not in spec:
        patch["replicas"] = 1
    canary = spec.get("canary")
    if canary:
        filled = dict(canary)
        filled.setdefault("steps", list(DEFAULT_STEPS))
        filled.setdefault("stepSeconds", 30)
        filled.setdefault("trafficRouting", "replicas")
        filled.setdefault("progressDeadlineSeconds", 600)
        if filled != canary:
            patch["canary"] = filled
    return patch
    # END SOLUTION
