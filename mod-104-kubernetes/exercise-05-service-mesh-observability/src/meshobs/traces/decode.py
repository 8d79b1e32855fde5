"""Decoders: OTLP/HTTP protobuf (ExportTraceServiceRequest) and Zipkin JSON v2 -> Span.

OTLP keeps the service name in the *resource* of each ResourceSpans (this is what oteltap
drops); Zipkin keeps it in each span's `localEndpoint.serviceName`. Both carry W3C-compatible
ids, so a trace exported both ways decodes to the same spans.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from meshobs.traces.model import Span


class DecodeError(ValueError):
    """The body is not a valid OTLP or Zipkin payload."""


def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _any_value(item.value) for item in value.kvlist_value.values}
    return getattr(value, kind)


def decode_otlp(body: bytes) -> list[Span]:
    # BEGIN SOLUTION
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except Exception as exc:  # protobuf raises DecodeError (message subclass varies)
        raise DecodeError(f"not an OTLP ExportTraceServiceRequest: {exc}") from exc
    spans: list[Span] = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _any_value(kv.value) for kv in resource_spans.resource.attributes}
        service = str(resource.get("service.name") or "unknown_service")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    raise DecodeError("span with an invalid trace or span id")
                spans.append(Span(
                    trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                    parent_id=span.parent_span_id.hex(), service=service, name=span.name,
                    kind=ProtoSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                    start_ns=span.start_time_unix_nano, end_ns=span.end_time_unix_nano,
                    error=span.status.code == Status.STATUS_CODE_ERROR,
                    attributes={kv.key: _any_value(kv.value) for kv in span.attributes}))
    return spans
    # END SOLUTION


def decode_zipkin(body: bytes) -> list[Span]:
    # BEGIN SOLUTION
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise DecodeError("Zipkin v2 expects a JSON array of spans")
    spans: list[Span] = []
    for index, item in enumerate(items):
        try:
            trace_id = str(item["traceId"]).lower().rjust(32, "0")
            span_id = str(item["id"]).lower()
            start_us = int(item["timestamp"])
            duration_us = int(item.get("duration", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise DecodeError(f"span {index}: missing or invalid {exc}") from exc
        tags = {str(k): v for k, v in (item.get("tags") or {}).items()}
        error = tags.get("otel.status_code") == "ERROR" or "error" in tags
        endpoint = item.get("localEndpoint") or {}
        spans.append(Span(
            trace_id=trace_id, span_id=span_id, parent_id=str(item.get("parentId") or ""),
            service=str(endpoint.get("serviceName") or "unknown_service"),
            name=str(item.get("name") or ""), kind=str(item.get("kind") or "INTERNAL"),
            start_ns=start_us * 1000, end_ns=(start_us + duration_us) * 1000, error=error,
            attributes=tags))
    return spans
    # END SOLUTION
