"""mesh.yaml -> Linkerd policy (policy.linkerd.io) and Gateway API HTTPRoutes.

Linkerd splits traffic with a Gateway API HTTPRoute whose parent is the Service (the "mesh"
profile): header matches first, then weighted backendRefs to one Service per version.
Timeouts are the HTTPRoute `timeouts.request` field; retries are Linkerd's route annotations
(`retry.linkerd.io/*`, Linkerd 2.16+). Authorization: a Server per service port, a
MeshTLSAuthentication naming the callers' ServiceAccounts and an AuthorizationPolicy tying them.
"""

from __future__ import annotations

from typing import Any

from meshobs.render.istio import Manifest
from meshobs.spec import MeshSpec, Service, duration_seconds

# Istio retryOn names -> the status classes Linkerd's `retry.linkerd.io/http` accepts.
_LINKERD_RETRY = {"5xx": "5xx", "gateway-error": "gateway-error", "reset": "5xx",
                  "connect-failure": "5xx", "refused-stream": "5xx", "retriable-4xx": "4xx"}


def _meta(name: str, spec: MeshSpec, annotations: dict[str, str] | None = None
          ) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": spec.namespace,
                            "labels": {"app.kubernetes.io/part-of": spec.name,
                                       "app.kubernetes.io/managed-by": "meshobs"}}
    if annotations:
        meta["annotations"] = annotations
    return meta


def _gateway_duration(text: str) -> str:
    """Gateway API durations allow only h/m/s/ms with integer values: 1.5s -> 1500ms."""
    millis = round(duration_seconds(text) * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def http_route(spec: MeshSpec, name: str, service: Service) -> Manifest:
    # BEGIN SOLUTION
    route = spec.route_for(name)
    retries = service.traffic.retries
    classes = sorted({_LINKERD_RETRY[item] for item in retries.retry_on})
    annotations = {"retry.linkerd.io/http": ",".join(classes),
                   "retry.linkerd.io/limit": str(retries.attempts),
                   "retry.linkerd.io/timeout": _gateway_duration(retries.per_try_timeout)}
    timeouts = {"request": _gateway_duration(service.traffic.timeout)}
    rules: list[dict[str, Any]] = []
    for header_route in route.header_routes:
        rules.append({
            "matches": [{"headers": [{"type": "Exact", "name": header_route.header,
                                      "value": header_route.exact}]}],
            "backendRefs": [{"name": f"{name}-{header_route.version}", "port": service.port,
                             "weight": 100}],
            "timeouts": timeouts,
        })
    rules.append({
        "backendRefs": [{"name": f"{name}-{version}", "port": service.port, "weight": weight}
                        for version, weight in route.weights.items()],
        "timeouts": timeouts,
    })
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": _meta(name, spec, annotations),
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": name,
                                     "port": service.port}],
                     "rules": rules}}
    # END SOLUTION


def server(spec: MeshSpec, name: str, service: Service) -> Manifest:
    return {"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
            "metadata": _meta(name, spec),
            "spec": {"podSelector": {"matchLabels": {"app": name}}, "port": "http",
                     "proxyProtocol": "HTTP/1", "accessPolicy": "deny"}}


def mesh_tls_authentication(spec: MeshSpec, name: str, service: Service) -> Manifest:
    return {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
            "metadata": _meta(f"{name}-callers", spec),
            "spec": {"identityRefs": [{"kind": "ServiceAccount", "name": caller}
                                      for caller in service.callers]}}


def authorization_policy(spec: MeshSpec, name: str, service: Service) -> Manifest:
    return {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
            "metadata": _meta(name, spec),
            "spec": {"targetRef": {"group": "policy.linkerd.io", "kind": "Server",
                                   "name": name},
                     "requiredAuthenticationRefs": [
                         {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication",
                          "name": f"{name}-callers"}]}}


def render(spec: MeshSpec) -> list[Manifest]:
    """Every Linkerd / Gateway API resource of the mesh. Services with no callers (the edge
    gateway) keep the cluster's default policy and get no Server."""
    manifests: list[Manifest] = []
    for name, service in spec.services.items():
        if service.callers:
            manifests += [server(spec, name, service),
                          mesh_tls_authentication(spec, name, service),
                          authorization_policy(spec, name, service)]
        if len(service.versions) > 1 or any(r.service == name for r in spec.routes):
            manifests.append(http_route(spec, name, service))
    return manifests
