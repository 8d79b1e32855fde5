"""Spec to children: the Kubernetes objects one MLModel owns, as plain dicts.

Pure functions of (name, namespace, spec, rollout view): the reconciler diffs their output
against the cluster, the CLI prints it (`modelop children`), and the tests validate it with
kubernetes-validate. Owner references are added by the reconciler (`kopf.adopt`).

Pods live in two fixed "slots", `<name>-blue` and `<name>-green`. The stable slot serves;
a canary runs in the other one. Promotion moves the stable Service's selector (and the
HPA and PDB) to the canary slot, so the new pods take the stable name without a restart.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from modelop.spec import GROUP, ModelSpec, Predictor

LABEL_MODEL = f"{GROUP}/model"
LABEL_SLOT = f"{GROUP}/slot"
LABEL_REVISION = f"{GROUP}/revision"
LABEL_MANAGED = "app.kubernetes.io/managed-by"
SLOTS = ("blue", "green")
METRICS_PORT_NAME = "http"


def other_slot(slot: str) -> str:
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


@dataclass(frozen=True)
class Traffic:
    """Where traffic goes now: the stable slot, and the canary slot with its weight (0-99)."""

    stable_slot: str
    stable: Predictor
    canary_slot: str | None = None
    canary: Predictor | None = None
    weight: int = 0
    routing: str = "replicas"
    gateway: str | None = None


def deployment_name(name: str, slot: str) -> str:
    return f"{name}-{slot}"


def canary_replicas(total: int, weight: int) -> tuple[int, int]:
    """(stable, canary) pod counts so that the canary's share of pods is about `weight` %
    (replica-ratio routing: the Service spreads requests evenly over all ready pods).
    Both keep at least one pod; the total never drops below `total`."""
    # BEGIN SOLUTION: ceil(total*weight/100) canary pods, >= 1 each
    total = max(total, 1)
    canary = max(1, math.ceil(total * weight / 100))
    stable = max(1, total - canary)
    if stable + canary < total:
        stable = total - canary
    return stable, canary
    # END SOLUTION


def _labels(name: str, slot: str | None = None, revision: str | None = None) -> dict[str, str]:
    labels = {"app.kubernetes.io/name": name, LABEL_MODEL: name, LABEL_MANAGED: "modelop"}
    if slot:
        labels[LABEL_SLOT] = slot
    if revision:
        labels[LABEL_REVISION] = revision
    return labels


def server_config(name: str, predictor: Predictor) -> dict[str, Any]:
    """The model server's settings (MLServer's model-settings.json shape)."""
    return {"name": name, "implementation": predictor.framework,
            "parameters": {"uri": predictor.uri, "version": predictor.revision}}


def build_configmap(name: str, namespace: str, traffic: Traffic) -> dict[str, Any]:
    data = {f"{traffic.stable_slot}.json": json.dumps(server_config(name, traffic.stable),
                                                     sort_keys=True)}
    if traffic.canary is not None and traffic.canary_slot is not None:
        data[f"{traffic.canary_slot}.json"] = json.dumps(server_config(name, traffic.canary),
                                                         sort_keys=True)
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"{name}-config", "namespace": namespace,
                         "labels": _labels(name)},
            "data": data}


def build_deployment(name: str, namespace: str, spec: ModelSpec, predictor: Predictor,
                     slot: str, replicas: int | None) -> dict[str, Any]:
    """One slot's Deployment. `replicas=None` leaves the count to the HPA (a controller that
    writes it back every resync would fight the autoscaler)."""
    # BEGIN SOLUTION: slot selector, revision label, replicas unless None, GPU + toleration
    res = spec.resources
    requests: dict[str, Any] = {"cpu": res.cpu, "memory": res.memory}
    limits: dict[str, Any] = {}
    if res.cpu_limit:
        limits["cpu"] = res.cpu_limit
    if res.memory_limit:
        limits["memory"] = res.memory_limit
    pod_spec: dict[str, Any] = {
        "containers": [{
            "name": "server",
            "image": predictor.image,
            "ports": [{"name": METRICS_PORT_NAME, "containerPort": predictor.port}],
            "env": [{"name": "MODEL_URI", "value": predictor.uri},
                    {"name": "MODEL_NAME", "value": name},
                    {"name": "MLSERVER_MODEL_SETTINGS", "value": f"/etc/modelop/{slot}.json"}],
            "resources": {"requests": requests, **({"limits": limits} if limits else {})},
            "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": predictor.port},
                               "periodSeconds": 5},
            "livenessProbe": {"httpGet": {"path": "/v2/health/live", "port": predictor.port},
                              "periodSeconds": 10},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/modelop", "readOnly": True}],
            "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
        }],
        "volumes": [{"name": "config", "configMap": {"name": f"{name}-config"}}],
    }
    if res.gpu:
        requests["nvidia.com/gpu"] = res.gpu
        limits["nvidia.com/gpu"] = res.gpu
        pod_spec["containers"][0]["resources"]["limits"] = limits
        pod_spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists",
                                    "effect": "NoSchedule"}]
    deployment_spec: dict[str, Any] = {
        "selector": {"matchLabels": {LABEL_MODEL: name, LABEL_SLOT: slot}},
        "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "template": {"metadata": {"labels": _labels(name, slot, predictor.revision)},
                     "spec": pod_spec},
    }
    if replicas is not None:
        deployment_spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": deployment_name(name, slot), "namespace": namespace,
                         "labels": _labels(name, slot, predictor.revision)},
            "spec": deployment_spec}
    # END SOLUTION


def _service(name: str, svc_name: str, namespace: str, selector: dict[str, str],
             port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": svc_name, "namespace": namespace, "labels": _labels(name)},
            "spec": {"selector": selector,
                     "ports": [{"name": METRICS_PORT_NAME, "port": 80,
                                "targetPort": METRICS_PORT_NAME, "protocol": "TCP"}]}}


def build_children(name: str, namespace: str, spec: ModelSpec,
                   traffic: Traffic) -> list[dict[str, Any]]:
    """Every child the MLModel should have right now, in apply order."""
    # BEGIN SOLUTION: ConfigMap, Deployments, Services, route, HPA, PDB, ServiceMonitor
    children: list[dict[str, Any]] = [build_configmap(name, namespace, traffic)]
    has_canary = traffic.canary is not None and traffic.canary_slot is not None
    stable_count: int | None = spec.replicas
    canary_count = 0
    if has_canary:
        if traffic.routing == "replicas":
            stable_count, canary_count = canary_replicas(spec.replicas, traffic.weight)
        else:  # a mesh splits by weight: the stable pods keep serving at full size
            canary_count = canary_replicas(spec.replicas, traffic.weight)[1]
    if spec.autoscaling is not None:
        stable_count = None
    children.append(build_deployment(name, namespace, spec, traffic.stable,
                                     traffic.stable_slot, stable_count))
    if has_canary:
        assert traffic.canary is not None and traffic.canary_slot is not None
        children.append(build_deployment(name, namespace, spec, traffic.canary,
                                         traffic.canary_slot, canary_count))
    port = traffic.stable.port
    stable_selector = {LABEL_MODEL: name, LABEL_SLOT: traffic.stable_slot}
    if has_canary and traffic.routing == "replicas":
        children.append(_service(name, name, namespace, {LABEL_MODEL: name}, port))
    else:
        children.append(_service(name, name, namespace, stable_selector, port))
    if has_canary and traffic.routing != "replicas":
        assert traffic.canary_slot is not None
        for slot in (traffic.stable_slot, traffic.canary_slot):
            children.append(_service(name, f"{name}-{slot}", namespace,
                                     {LABEL_MODEL: name, LABEL_SLOT: slot}, port))
        children.append(build_route(name, namespace, traffic))
    if spec.autoscaling is not None:
        children.append(build_hpa(name, namespace, spec, traffic.stable_slot))
    if spec.min_available is not None:
        children.append({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
            "spec": {"minAvailable": spec.min_available,
                     "selector": {"matchLabels": stable_selector}}})
    if spec.service_monitor:
        children.append({
            "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
            "spec": {"selector": {"matchLabels": {LABEL_MODEL: name}},
                     "podTargetLabels": [LABEL_SLOT, LABEL_REVISION],
                     "endpoints": [{"port": METRICS_PORT_NAME, "path": "/metrics",
                                    "interval": "15s"}]}})
    return children
    # END SOLUTION


def build_hpa(name: str, namespace: str, spec: ModelSpec, slot: str) -> dict[str, Any]:
    assert spec.autoscaling is not None
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": deployment_name(name, slot)},
                     "minReplicas": spec.autoscaling.min_replicas,
                     "maxReplicas": spec.autoscaling.max_replicas,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {
                             "type": "Utilization",
                             "averageUtilization": spec.autoscaling.target_cpu}}}]}}


def build_route(name: str, namespace: str, traffic: Traffic) -> dict[str, Any]:
    """An Istio VirtualService or a Gateway API HTTPRoute splitting by weight."""
    assert traffic.canary_slot is not None
    stable_w, canary_w = 100 - traffic.weight, traffic.weight
    if traffic.routing == "istio":
        return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
                "spec": {"hosts": [name], "http": [{"route": [
                    {"destination": {"host": f"{name}-{traffic.stable_slot}"},
                     "weight": stable_w},
                    {"destination": {"host": f"{name}-{traffic.canary_slot}"},
                     "weight": canary_w}]}]}}
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
            "spec": {"parentRefs": [{"name": traffic.gateway}],
                     "rules": [{"backendRefs": [
                         {"name": f"{name}-{traffic.stable_slot}", "port": 80,
                          "weight": stable_w},
                         {"name": f"{name}-{traffic.canary_slot}", "port": 80,
                          "weight": canary_w}]}]}}


def child_key(obj: dict[str, Any]) -> str:
    """"Kind/name": how the status inventory names a child."""
    return f"{obj['kind']}/{obj['metadata']['name']}"
