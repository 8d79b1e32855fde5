"""Spec to children: the objects validate against the Kubernetes schemas and encode the
slots, the canary split and the optional children correctly."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from modelop import builders
from modelop.builders import LABEL_MODEL, LABEL_SLOT, Traffic, build_children, canary_replicas
from modelop.spec import parse_spec

K8S_VERSION = "1.31"
FULL = {"model": {"uri": "hf://org/model", "framework": "huggingface"}, "replicas": 3,
        "resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"},
                      "gpu": 1},
        "autoscaling": {"minReplicas": 2, "maxReplicas": 6},
        "disruptionBudget": {"minAvailable": 1}, "monitoring": {"serviceMonitor": True},
        "canary": {"image": "kserve/huggingfaceserver:v2", "gates": {"maxErrorRate": 0.01},
                   "trafficRouting": "istio"}}


def _by_kind(children: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for child in children:
        out.setdefault(child["kind"], []).append(child)
    return out


def _traffic(raw: dict[str, Any], weight: int | None = None) -> tuple[Any, Traffic]:
    spec = parse_spec(raw)
    if weight is None or spec.canary is None:
        return spec, Traffic(stable_slot="blue", stable=spec.predictor)
    return spec, Traffic(stable_slot="blue", stable=spec.predictor, canary_slot="green",
                         canary=spec.canary.predictor, weight=weight,
                         routing=spec.canary.routing, gateway=spec.canary.gateway)


@pytest.mark.points(4)
def test_builtin_children_validate_against_kubernetes_schemas() -> None:
    spec, traffic = _traffic(FULL, weight=30)
    children = build_children("sentiment", "ml", spec, traffic)
    kinds = _by_kind(children)
    assert set(kinds) == {"ConfigMap", "Deployment", "Service", "VirtualService",
                          "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor"}
    builtin = [c for c in children if c["kind"] not in ("VirtualService", "ServiceMonitor")]
    for child in builtin:
        kubernetes_validate.validate(child, K8S_VERSION, strict=True)


@pytest.mark.points(3)
def test_deployment_selects_its_slot_and_requests_gpus() -> None:
    spec, traffic = _traffic(FULL)
    dep = _by_kind(build_children("sentiment", "ml", spec, traffic))["Deployment"][0]
    selector = dep["spec"]["selector"]["matchLabels"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert selector == {LABEL_MODEL: "sentiment", LABEL_SLOT: "blue"}
    assert selector.items() <= labels.items()
    assert labels[builders.LABEL_REVISION] == spec.predictor.revision
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert dep["spec"]["template"]["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert {"name": "MODEL_URI", "value": "hf://org/model"} in container["env"]
    assert "replicas" not in dep["spec"]  # the HPA owns the count
    hpa = _by_kind(build_children("sentiment", "ml", spec, traffic))["HorizontalPodAutoscaler"][0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "sentiment-blue"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)


@pytest.mark.points(1)
@pytest.mark.parametrize(("total", "weight", "expected"), [
    (4, 25, (3, 1)), (4, 50, (2, 2)), (10, 10, (9, 1)), (1, 10, (1, 1)), (3, 50, (1, 2)),
    (2, 1, (1, 1)),
])
def test_canary_replica_split(total: int, weight: int, expected: tuple[int, int]) -> None:
    assert canary_replicas(total, weight) == expected


@pytest.mark.points(3)
def test_replica_routing_service_spans_both_slots_mesh_routing_uses_weights() -> None:
    raw = {"model": {"uri": "s3://m/1", "framework": "sklearn"}, "replicas": 4,
           "canary": {"modelUri": "s3://m/2", "gates": {"maxErrorRate": 0.01}}}
    spec, traffic = _traffic(raw, weight=50)
    kinds = _by_kind(build_children("churn", "ml", spec, traffic))
    assert [s["spec"]["selector"] for s in kinds["Service"]] == [{LABEL_MODEL: "churn"}]
    assert [(d["metadata"]["name"], d["spec"]["replicas"]) for d in kinds["Deployment"]] == \
        [("churn-blue", 2), ("churn-green", 2)]
    assert "VirtualService" not in kinds

    raw["canary"]["trafficRouting"] = "gatewayAPI"  # type: ignore[index]
    raw["canary"]["gateway"] = "public"  # type: ignore[index]
    spec, traffic = _traffic(raw, weight=20)
    kinds = _by_kind(build_children("churn", "ml", spec, traffic))
    route = kinds["HTTPRoute"][0]
    assert [(b["name"], b["weight"]) for b in route["spec"]["rules"][0]["backendRefs"]] == \
        [("churn-blue", 80), ("churn-green", 20)]
    assert {s["metadata"]["name"]: s["spec"]["selector"].get(LABEL_SLOT)
            for s in kinds["Service"]} == {"churn": "blue", "churn-blue": "blue",
                                           "churn-green": "green"}
    # a mesh splits by weight: the stable pods stay at full size
    assert [d["spec"]["replicas"] for d in kinds["Deployment"]] == [4, 1]


@pytest.mark.points(1)
def test_minimal_spec_has_only_the_required_children() -> None:
    spec, traffic = _traffic({"model": {"uri": "file:///models/m", "framework": "onnx"}})
    children = build_children("tiny", "default", spec, traffic)
    assert [builders.child_key(c) for c in children] == [
        "ConfigMap/tiny-config", "Deployment/tiny-blue", "Service/tiny"]
