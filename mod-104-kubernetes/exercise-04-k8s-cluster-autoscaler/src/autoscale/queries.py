"""The PromQL autoscale reads, in one place (advisor, controller, forecaster, dashboards).

The metric names are the common ones: an HTTP server's `http_requests_total` counter with
`namespace`, `deployment` and `pod` labels (what the Prometheus client libraries and most
ingress exporters give), cAdvisor's `container_cpu_usage_seconds_total` and
`container_memory_working_set_bytes`, kube-state-metrics' `kube_deployment_spec_replicas`
and `kube_pod_container_resource_requests`.
"""

from __future__ import annotations


def _sel(namespace: str, deployment: str) -> str:
    return f'namespace="{namespace}",deployment="{deployment}"'


def _pods(namespace: str, deployment: str) -> str:
    return f'namespace="{namespace}",pod=~"{deployment}-.*",container!=""'


def request_rate(namespace: str, deployment: str, window: str = "5m") -> str:
    return f"sum(rate(http_requests_total{{{_sel(namespace, deployment)}}}[{window}]))"


def cpu_per_pod(namespace: str, deployment: str, window: str = "5m") -> str:
    return (f"sum by (pod) (rate(container_cpu_usage_seconds_total"
            f"{{{_pods(namespace, deployment)}}}[{window}]))")


def memory_per_pod(namespace: str, deployment: str) -> str:
    return f"max by (pod) (container_memory_working_set_bytes{{{_pods(namespace, deployment)}}})"


def total_cpu(namespace: str, deployment: str, window: str = "5m") -> str:
    return (f"sum(rate(container_cpu_usage_seconds_total"
            f"{{{_pods(namespace, deployment)}}}[{window}]))")


def cpu_request_per_pod(namespace: str, deployment: str) -> str:
    return (f'max(kube_pod_container_resource_requests{{namespace="{namespace}",'
            f'pod=~"{deployment}-.*",resource="cpu"}})')


def replicas(namespace: str, deployment: str) -> str:
    return (f'max(kube_deployment_spec_replicas{{namespace="{namespace}",'
            f'deployment="{deployment}"}})')
