"""An OTLP/HTTP trace receiver on loopback (oteltap), standing in for an OpenTelemetry
Collector, so that tests assert on the spans a service really exported.

No collector, Jaeger or Tempo can be installed on these machines; `oteltap` (PyPI) embeds a
native OTLP/HTTP protobuf receiver. It runs inside the calling process (a thread polls it),
while the code under test may be another process: it only needs the endpoint.

Limits of oteltap, on purpose of knowing what a test can check:
- it hands over bare spans: the resource (`service.name`, `host.name`...) and the
  instrumentation scope are dropped, so assert on span names and span attributes;
- OTLP over HTTP with protobuf bodies only (the SDK's `OTLPSpanExporter` from
  `opentelemetry-exporter-otlp-proto-http`); no gRPC, no JSON bodies;
- only traces are collected here (logs and metrics sent to it are ignored).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.ports import free_port, wait_for_tcp

LOOPBACK = "127.0.0.1"

_POLL_MS = 200


@dataclass(frozen=True)
class SpanRecord:
    """One received span, decoded: ids as lower-case hex, attributes as Python values."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root span
    kind: str  # INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER (or UNSPECIFIED)
    attributes: dict[str, Any]
    status_code: str  # UNSET, OK or ERROR
    status_message: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return (self.end_time_unix_nano - self.start_time_unix_nano) / 1e6

    @property
    def is_root(self) -> bool:
        return not self.parent_span_id


def _any_value(value: Any) -> Any:
    """An OTLP AnyValue as a Python value (lists and maps recursively)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _any_value(item.value) for item in value.kvlist_value.values}
    return getattr(value, kind)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _any_value(pair.value) for pair in pairs}


def span_record(span: Any) -> SpanRecord:
    """Decode an `opentelemetry.proto.trace.v1.trace_pb2.Span` into a SpanRecord."""
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    return SpanRecord(
        name=span.name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
        attributes=_attributes(span.attributes),
        status_code=Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
        status_message=span.status.message,
        start_time_unix_nano=span.start_time_unix_nano,
        end_time_unix_nano=span.end_time_unix_nano,
        events=[(event.name, _attributes(event.attributes)) for event in span.events],
    )


class OtlpReceiver:
    """Receives OTLP/HTTP traces on 127.0.0.1:`port` and keeps them for assertions.

    >>> with OtlpReceiver() as receiver:
    ...     run_service(env=receiver.env)
    ...     spans = receiver.wait_for_spans(2, timeout=10)
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._handle: int | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._spans: list[SpanRecord] = []
        self._error: str | None = None

    # ------------------------------------------------------------------ endpoints

    @property
    def endpoint(self) -> str:
        """Base URL, as in OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/traces)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def traces_endpoint(self) -> str:
        """Full URL for `OTLPSpanExporter(endpoint=...)`."""
        return f"{self.endpoint}/v1/traces"

    @property
    def env(self) -> dict[str, str]:
        """Environment that points an OpenTelemetry SDK (or its auto-configuration) here."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> OtlpReceiver:
        try:
            from oteltap.oteltap_core import OtelTapCore, OtelTapFlags  # extra `otel`
        except ImportError as exc:
            raise MissingBinaryError("oteltap", "install the extra aiinfra-shared[otel]") from exc
        status, handle = OtelTapCore.oteltap_start_receiving_http_protobuf(
            self.port, OtelTapFlags.NONE, None, None, None)
        if status < 0:
            raise RuntimeError(f"oteltap could not listen on port {self.port} (code {status})")
        self._handle = handle
        self._stopping.clear()
        self._thread = threading.Thread(target=self._poll, name=f"otlp-{self.port}",
                                        daemon=True)
        self._thread.start()
        if not wait_for_tcp(LOOPBACK, self.port, timeout=10):
            self.stop()
            raise RuntimeError(f"oteltap is not accepting connections on port {self.port}")
        return self

    def stop(self) -> None:
        from oteltap.oteltap_core import OtelTapCore

        handle, self._handle = self._handle, None
        if handle is None:
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)  # never stop the native side under a running poll
        OtelTapCore.oteltap_stop_receiving(handle)

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _poll(self) -> None:
        from opentelemetry.proto.trace.v1.trace_pb2 import Span
        from oteltap.oteltap_core import OtelTapCore

        handle = self._handle
        assert handle is not None
        while not self._stopping.is_set():
            status, data = OtelTapCore.oteltap_poll_trace(handle, _POLL_MS)
            if status < 0:
                with self._changed:
                    self._error = f"oteltap polling failed (code {status})"
                    self._changed.notify_all()
                return
            if data:
                record = span_record(Span.FromString(data))
                with self._changed:
                    self._spans.append(record)
                    self._changed.notify_all()

    # ------------------------------------------------------------------ assertions

    @property
    def spans(self) -> list[SpanRecord]:
        """Every span received so far, in arrival order (a copy)."""
        with self._changed:
            return list(self._spans)

    def clear(self) -> None:
        with self._changed:
            self._spans.clear()

    def wait_for_spans(self, count: int, timeout: float = 10.0, name: str | None = None
                       ) -> list[SpanRecord]:
        """Block until at least `count` spans (named `name`, if given) arrived; return them.

        Raises TimeoutError listing what did arrive: exporters batch and retry, so waiting
        for the expected number is the reliable way to assert on them.
        """
        deadline = time.monotonic() + timeout

        def matching() -> list[SpanRecord]:
            return [s for s in self._spans if name is None or s.name == name]

        with self._changed:
            while len(matching()) < count and self._error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            found = matching()
            if len(found) < count:
                seen = [s.name for s in self._spans]
                reason = self._error or f"timed out after {timeout}s"
                raise TimeoutError(f"expected {count} span(s)"
                                   f"{f' named {name!r}' if name else ''}, got {len(found)} "
                                   f"({reason}); received: {seen}")
            return found

    def by_name(self, name: str) -> list[SpanRecord]:
        return [s for s in self.spans if s.name == name]
