"""OpenTelemetry wiring of a demo service: W3C propagation, OTLP/HTTP and Zipkin exporters.

The SDK's default propagator is W3C `traceparent`/`tracestate`, which is what Istio's and
Linkerd's proxies forward, so a trace started by the gateway continues through the model to
the features service. Spans go to every configured OTLP endpoint (meshobs' own collector, a
test's oteltap, a real collector) and, optionally, as Zipkin JSON v2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def setup_tracing(service: str, version: str, otlp_endpoints: Sequence[str] = (),
                  zipkin_endpoint: str | None = None, export_delay_ms: int = 200
                  ) -> TracerProvider:
    """A TracerProvider for `service` exporting to each endpoint (base URLs for OTLP)."""
    provider = TracerProvider(resource=Resource.create({
        "service.name": service, "service.version": version,
        "service.namespace": "serving"}))
    if otlp_endpoints:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        for endpoint in otlp_endpoints:
            exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces",
                                        timeout=5)
            provider.add_span_processor(BatchSpanProcessor(
                exporter, schedule_delay_millis=export_delay_ms))
    if zipkin_endpoint:
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        provider.add_span_processor(BatchSpanProcessor(
            ZipkinExporter(endpoint=zipkin_endpoint.rstrip("/") + "/api/v2/spans"),
            schedule_delay_millis=export_delay_ms))
    return provider


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Add the current span's `traceparent` to outgoing headers."""
    propagate.inject(headers)
    return headers


def extract_context(headers: Mapping[str, str]) -> object:
    return propagate.extract(dict(headers))


def tracer(provider: TracerProvider, name: str = "meshobs.demo") -> trace.Tracer:
    return provider.get_tracer(name)
