"""Helpers for the integration tests: the CRD and extra kinds declared in kmock, an MLModel
body, Deployment status set by hand (nothing runs pods in kmock), the operator in process."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from aiinfra_shared.testing.k8s import K8sApi

from modelop.crd import crd_manifest

MLMODELS = "aiinfra.dev/v1alpha1/mlmodels"
DEPLOYMENTS = "apps/v1/deployments"
OPERATOR_ARGS = ["run", "-A", "--standalone", "-m", "modelop.handlers"]


def prepare(api: K8sApi) -> None:
    """The MLModel CRD plus the optional child kinds (Prometheus Operator, Istio, Gateway)."""
    api.declare_crd(crd_manifest())
    api.declare("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor")
    api.declare("networking.istio.io", "v1", "virtualservices", "VirtualService")
    api.declare("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute")


def mlmodel(name: str, spec: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "aiinfra.dev/v1alpha1", "kind": "MLModel",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def simple_spec(**extra: Any) -> dict[str, Any]:
    return {"model": {"uri": "s3://models/churn/v1", "framework": "sklearn"},
            "replicas": 2, **extra}


def custom(api: K8sApi) -> Any:
    from kubernetes import client

    return client.CustomObjectsApi(api.client())


def apps(api: K8sApi) -> Any:
    from kubernetes import client

    return client.AppsV1Api(api.client())


def core(api: K8sApi) -> Any:
    from kubernetes import client

    return client.CoreV1Api(api.client())


def create(api: K8sApi, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = custom(api).create_namespaced_custom_object(
        "aiinfra.dev", "v1alpha1", body["metadata"].get("namespace", "default"), "mlmodels",
        body)
    return result


def patch_spec(api: K8sApi, name: str, spec: dict[str, Any],
               namespace: str = "default") -> None:
    custom(api).patch_namespaced_custom_object("aiinfra.dev", "v1alpha1", namespace,
                                               "mlmodels", name, {"spec": spec})


def delete(api: K8sApi, name: str, namespace: str = "default") -> None:
    custom(api).delete_namespaced_custom_object("aiinfra.dev", "v1alpha1", namespace,
                                                "mlmodels", name)


def model(api: K8sApi, name: str, namespace: str = "default") -> dict[str, Any] | None:
    return api.get(MLMODELS, namespace, name)


def condition(api: K8sApi, name: str, kind: str) -> dict[str, Any] | None:
    body = model(api, name) or {}
    for cond in (body.get("status") or {}).get("conditions") or []:
        if cond["type"] == kind:
            return dict(cond)
    return None


def is_true(api: K8sApi, name: str, kind: str) -> bool:
    cond = condition(api, name, kind)
    return cond is not None and cond["status"] == "True"


def mark_ready(api: K8sApi, name: str, namespace: str = "default") -> bool:
    """Play the Deployment controller for one Deployment: all pods updated and ready."""
    dep = api.get(DEPLOYMENTS, namespace, name)
    if dep is None:
        return False
    replicas = int(dep["spec"].get("replicas", 1))
    status = {"observedGeneration": dep["metadata"]["generation"], "replicas": replicas,
              "updatedReplicas": replicas, "readyReplicas": replicas,
              "availableReplicas": replicas}
    if all((dep.get("status") or {}).get(k) == v for k, v in status.items()):
        return True
    apps(api).patch_namespaced_deployment_status(name, namespace, {"status": status})
    return True


def mark_all_ready(api: K8sApi) -> None:
    for dep in api.list(DEPLOYMENTS):
        mark_ready(api, dep["metadata"]["name"], dep["metadata"]["namespace"])


def events(api: K8sApi, name: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the Events kopf posted about MLModel `name`."""
    found = []
    for event in api.list("v1/events"):
        involved = event.get("involvedObject") or {}
        if involved.get("kind") == "MLModel" and involved.get("name") == name:
            found.append((event.get("type", ""), event.get("reason", ""),
                          event.get("message", "")))
    return found


def poll(fn: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1,
         each: Callable[[], None] | None = None) -> Any:
    """Poll until `fn()` is truthy (optionally running `each()` between tries)."""
    deadline = time.monotonic() + timeout
    while True:
        if each is not None:
            each()
        value = fn()
        if value or time.monotonic() > deadline:
            assert value, f"timed out after {timeout}s"
            return value
        time.sleep(interval)


@contextlib.contextmanager
def operator(settings: Any = None) -> Iterator[Any]:
    """The operator in this process (kopf's KopfRunner), cluster-wide: kmock cannot serve
    the namespace-restricted mode's watches the way kopf expects, and -A is what the
    Deployment in deploy/ runs too."""
    import kopf.testing

    import modelop.handlers as handlers
    from modelop.config import Settings

    handlers.configure(settings or Settings())
    with kopf.testing.KopfRunner(OPERATOR_ARGS, timeout=60) as runner:
        yield runner
    handlers.configure(Settings())
