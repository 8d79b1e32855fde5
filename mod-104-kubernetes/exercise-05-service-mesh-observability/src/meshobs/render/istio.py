"""mesh.yaml -> Istio resources (networking.istio.io/v1, security.istio.io/v1,
telemetry.istio.io/v1), as plain dicts ready for YAML.

One PeerAuthentication (STRICT) for the namespace; per service a DestinationRule (a subset per
version, ISTIO_MUTUAL, outlier detection, connection pool), a VirtualService (header routes
first, then the weighted route, retries, timeout, optional fault injection) and an
AuthorizationPolicy allowing only the callers' SPIFFE principals; one Telemetry resource
sending a sampled share of traces to an OTLP provider.
"""

from __future__ import annotations

from typing import Any

from meshobs.spec import MeshSpec, Service

Manifest = dict[str, Any]


def _meta(name: str, spec: MeshSpec) -> dict[str, Any]:
    return {"name": name, "namespace": spec.namespace,
            "labels": {"app.kubernetes.io/part-of": spec.name,
                       "app.kubernetes.io/managed-by": "meshobs"}}


def host(spec: MeshSpec, service: str) -> str:
    return f"{service}.{spec.namespace}.svc.cluster.local"


def peer_authentication(spec: MeshSpec) -> Manifest:
    return {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": _meta("default", spec), "spec": {"mtls": {"mode": "STRICT"}}}


def destination_rule(spec: MeshSpec, name: str, service: Service) -> Manifest:
    # BEGIN SOLUTION
    traffic = service.traffic
    pool = traffic.connection_pool
    outlier = traffic.outlier_detection
    return {
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": _meta(name, spec),
        "spec": {
            "host": host(spec, name),
            "trafficPolicy": {
                "tls": {"mode": "ISTIO_MUTUAL"},
                "connectionPool": {
                    "tcp": {"maxConnections": pool.max_connections},
                    "http": {"http1MaxPendingRequests": pool.http1_max_pending_requests,
                             "maxRequestsPerConnection": pool.max_requests_per_connection},
                },
                "outlierDetection": {
                    "consecutive5xxErrors": outlier.consecutive_5xx_errors,
                    "interval": outlier.interval,
                    "baseEjectionTime": outlier.base_ejection_time,
                    "maxEjectionPercent": outlier.max_ejection_percent,
                },
            },
            "subsets": [{"name": version, "labels": {"version": version}}
                        for version in service.versions],
        },
    }
    # END SOLUTION


def virtual_service(spec: MeshSpec, name: str, service: Service) -> Manifest:
    # BEGIN SOLUTION
    route = spec.route_for(name)
    traffic = service.traffic
    target = host(spec, name)
    common: dict[str, Any] = {
        "timeout": traffic.timeout,
        "retries": {"attempts": traffic.retries.attempts,
                    "perTryTimeout": traffic.retries.per_try_timeout,
                    "retryOn": ",".join(traffic.retries.retry_on)},
    }
    if traffic.fault.enabled:
        fault: dict[str, Any] = {}
        if traffic.fault.delay_percent > 0:
            fault["delay"] = {"percentage": {"value": traffic.fault.delay_percent},
                              "fixedDelay": traffic.fault.fixed_delay}
        if traffic.fault.abort_percent > 0:
            fault["abort"] = {"percentage": {"value": traffic.fault.abort_percent},
                              "httpStatus": traffic.fault.abort_http_status}
        common["fault"] = fault
    http: list[dict[str, Any]] = []
    for header_route in route.header_routes:
        http.append({
            "name": f"header-{header_route.header}-{header_route.version}",
            "match": [{"headers": {header_route.header: {"exact": header_route.exact}}}],
            "route": [{"destination": {"host": target, "subset": header_route.version},
                       "weight": 100}],
            **common,
        })
    http.append({
        "name": "weighted",
        "route": [{"destination": {"host": target, "subset": version}, "weight": weight}
                  for version, weight in route.weights.items()],
        **common,
    })
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": _meta(name, spec), "spec": {"hosts": [target], "http": http}}
    # END SOLUTION


def authorization_policy(spec: MeshSpec, name: str, service: Service) -> Manifest:
    """ALLOW rules for the callers' principals; with no callers, an empty ALLOW (deny all
    in-mesh callers) is wrong for an edge service, so the gateway allows any source."""
    # BEGIN SOLUTION
    rules: list[dict[str, Any]]
    if service.callers:
        principals = [spec.spiffe_id(caller).removeprefix("spiffe://")
                      for caller in service.callers]
        rules = [{"from": [{"source": {"principals": principals}}]}]
    else:
        rules = [{}]  # one empty rule: allow every request (the edge gateway)
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": _meta(name, spec),
            "spec": {"selector": {"matchLabels": {"app": name}}, "action": "ALLOW",
                     "rules": rules}}
    # END SOLUTION


def telemetry(spec: MeshSpec) -> Manifest:
    return {"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
            "metadata": _meta("mesh-tracing", spec),
            "spec": {"tracing": [{"providers": [{"name": spec.telemetry.otlp_provider}],
                                  "randomSamplingPercentage":
                                      spec.telemetry.sampling_percent}]}}


def render(spec: MeshSpec) -> list[Manifest]:
    """Every Istio resource of the mesh, in apply order."""
    manifests = [peer_authentication(spec), telemetry(spec)]
    for name, service in spec.services.items():
        manifests += [destination_rule(spec, name, service),
                      virtual_service(spec, name, service),
                      authorization_policy(spec, name, service)]
    return manifests
