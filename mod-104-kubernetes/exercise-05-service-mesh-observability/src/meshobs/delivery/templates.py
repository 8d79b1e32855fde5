"""PromQL templates per provider: the same two checks, three sets of metric names.

- Istio: `istio_requests_total` / `istio_request_duration_milliseconds_bucket` reported by
  the destination sidecar (Flagger's built-in queries);
- Linkerd: `response_total` / `response_latency_ms_bucket` of the inbound proxy;
- local: HAProxy's exporter (per-server response classes, every caller's backend) for
  success, and the workload's own histogram for latency (HAProxy 2.6 has no histogram).

All return a percentage (success rate) or milliseconds (p99), one value per query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meshobs.delivery.spec import Provider, Template
from meshobs.errors import SpecError

TEMPLATES: dict[Provider, dict[Template, str]] = {
    "istio": {
        "request-success-rate": (
            'sum(rate(istio_requests_total{{reporter="destination",'
            'destination_workload_namespace="{namespace}",destination_workload="{workload}",'
            'response_code!~"5.*"}}[{interval}])) / sum(rate(istio_requests_total{{'
            'reporter="destination",destination_workload_namespace="{namespace}",'
            'destination_workload="{workload}"}}[{interval}])) * 100'),
        "request-duration-p99": (
            'histogram_quantile(0.99, sum by (le) (rate('
            'istio_request_duration_milliseconds_bucket{{reporter="destination",'
            'destination_workload_namespace="{namespace}",destination_workload="{workload}"'
            '}}[{interval}])))'),
    },
    "linkerd": {
        "request-success-rate": (
            'sum(rate(response_total{{namespace="{namespace}",deployment="{workload}",'
            'direction="inbound",classification!="failure"}}[{interval}])) / '
            'sum(rate(response_total{{namespace="{namespace}",deployment="{workload}",'
            'direction="inbound"}}[{interval}])) * 100'),
        "request-duration-p99": (
            'histogram_quantile(0.99, sum by (le) (rate(response_latency_ms_bucket{{'
            'namespace="{namespace}",deployment="{workload}",direction="inbound"'
            '}}[{interval}])))'),
    },
    "local": {
        "request-success-rate": (
            'sum(rate(haproxy_server_http_responses_total{{proxy=~"{service}_via_.+",'
            'server="{version}",code!="5xx"}}[{interval}])) / '
            'sum(rate(haproxy_server_http_responses_total{{proxy=~"{service}_via_.+",'
            'server="{version}"}}[{interval}])) * 100'),
        "request-duration-p99": (
            'histogram_quantile(0.99, sum by (le) (rate('
            'meshobs_request_duration_seconds_bucket{{service="{service}",'
            'version="{version}"}}[{interval}]))) * 1000'),
    },
}

# Per-step series for the Mann-Whitney comparison (one sample per range-query step).
COMPARISON: dict[str, str] = {
    "latency": ('sum(rate(meshobs_request_duration_seconds_sum{{service="{service}",'
                'version="{version}"}}[{interval}])) / sum(rate('
                'meshobs_request_duration_seconds_count{{service="{service}",'
                'version="{version}"}}[{interval}])) * 1000'),
    "errors": ('sum(rate(haproxy_server_http_responses_total{{proxy=~"{service}_via_.+",'
               'server="{version}",code="5xx"}}[{interval}])) / '
               'sum(rate(haproxy_server_http_responses_total{{proxy=~"{service}_via_.+",'
               'server="{version}"}}[{interval}])) * 100'),
}


@dataclass(frozen=True)
class QueryContext:
    service: str
    version: str
    namespace: str
    interval: str

    @property
    def workload(self) -> str:
        """The Deployment name the mesh's metrics carry: <service>-<version>."""
        return f"{self.service}-{self.version}"


_FLAGGER_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def render_custom(query: str, ctx: QueryContext) -> str:
    """Fill Flagger-style `{{ target }}`, `{{ namespace }}`, `{{ interval }}` (and
    `{{ service }}`, `{{ version }}`) in a custom query; PromQL braces stay as written."""
    values = {"target": ctx.workload, "namespace": ctx.namespace, "interval": ctx.interval,
              "service": ctx.service, "version": ctx.version}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise SpecError(f"unknown variable {{{{ {name} }}}} in query (known: "
                            f"{', '.join(sorted(values))})")
        return values[name]

    return _FLAGGER_VAR.sub(fill, query)


def render_query(provider: Provider, template: Template | None, custom: str | None,
                 ctx: QueryContext) -> str:
    """The PromQL for one check, placeholders filled."""
    if custom is not None:
        return render_custom(custom, ctx)
    assert template is not None
    return TEMPLATES[provider][template].format(
        service=ctx.service, version=ctx.version, namespace=ctx.namespace,
        interval=ctx.interval, workload=ctx.workload)
