"""`autoscale forecaster`: KEDA's external scaler protocol over the predictive forecaster.

KEDA calls GetMetricSpec once (the per-replica target), then GetMetrics every polling
interval; IsActive decides scale to and from zero; StreamIsActive is the push variant
(`type: external-push`). The metric is `max(current rate, forecast peak within lead)`, so the
answer is never below what a reactive scaler would see. Every ScaledObject reference picks
its series through `scalerMetadata` (namespace, deployment, targetSize, activationThreshold,
leadSeconds); a source with no data answers UNAVAILABLE, which KEDA counts towards its
fallback.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from autoscale import queries
from autoscale.adapters.prometheus import PrometheusClient
from autoscale.errors import AutoscaleError, MetricsUnavailableError
from autoscale.forecaster.proto import pb2, pb2_grpc
from autoscale.policies import predictive

log = logging.getLogger(__name__)
METRIC_NAME = "forecast-requests-per-second"


class RateSource(Protocol):
    """History of the request rate for one workload, oldest first, at a fixed step."""

    step: float

    def history(self, namespace: str, deployment: str) -> Sequence[float]: ...


@dataclass
class StaticSource:
    """A fixed history (tests, demos, `--trace`)."""

    rates: Sequence[float]
    step: float = 60.0

    def history(self, namespace: str, deployment: str) -> Sequence[float]:
        return self.rates


@dataclass
class PrometheusSource:
    """The last `days` of `sum(rate(http_requests_total{...}[5m]))`."""

    client: PrometheusClient
    step: float = 60.0
    days: float = 3.0
    clock: Callable[[], float] = time.time

    def history(self, namespace: str, deployment: str) -> Sequence[float]:
        end = self.clock()
        q = queries.request_rate(namespace, deployment)
        series = self.client.one(self.client.query_range(q, end - self.days * 86400, end,
                                                         self.step), q)
        return [v for _, v in series.points]


@dataclass(frozen=True)
class Answer:
    value: float
    current: float
    forecast: float | None
    method: str | None


def forecast(source: RateSource, namespace: str, deployment: str, lead: float,
             method: predictive.Method, bucket_seconds: int = 900) -> Answer:
    rates = list(source.history(namespace, deployment))
    if not rates:
        raise MetricsUnavailableError(f"no request-rate history for {namespace}/{deployment}")
    model = predictive.Forecaster(predictive.ForecastSpec(method, bucket_seconds,
                                                          lead_seconds=lead), source.step)
    model.extend(rates)
    peak = model.peak_ahead()
    current = rates[-1]
    value = max(current, peak) if peak is not None else current
    return Answer(value, current, peak, model.method_used.value if model.method_used else None)


class ExternalScaler(pb2_grpc.ExternalScalerServicer):  # type: ignore[misc]
    def __init__(self, source: RateSource,
                 method: predictive.Method = predictive.Method.HOLT_WINTERS,
                 default_lead: float = 240.0, stream_interval: float = 5.0,
                 on_answer: Callable[[str, str, Answer], None] | None = None) -> None:
        self.source = source
        self.method = method
        self.default_lead = default_lead
        self.stream_interval = stream_interval
        self.on_answer = on_answer

    def _answer(self, ref: Any, context: grpc.ServicerContext) -> tuple[Answer, dict[str, str]]:
        meta = dict(ref.scalerMetadata)
        namespace = meta.get("namespace") or ref.namespace or "default"
        deployment = meta.get("deployment") or ref.name
        try:
            lead = float(meta.get("leadSeconds", self.default_lead))
            answer = forecast(self.source, namespace, deployment, lead, self.method)
        except ValueError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad scalerMetadata: {exc}")
        except AutoscaleError as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        if self.on_answer:
            self.on_answer(namespace, deployment, answer)
        return answer, meta

    @staticmethod
    def _threshold(meta: dict[str, str], context: grpc.ServicerContext) -> float:
        try:
            return float(meta.get("activationThreshold", "0"))
        except ValueError:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "activationThreshold must be a number")
        raise AssertionError("unreachable")

    def IsActive(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        answer, meta = self._answer(request, context)
        return pb2.IsActiveResponse(result=answer.value > self._threshold(meta, context))

    def StreamIsActive(self, request: Any, context: grpc.ServicerContext  # noqa: N802
                       ) -> Iterator[Any]:
        while context.is_active():
            answer, meta = self._answer(request, context)
            yield pb2.IsActiveResponse(result=answer.value > self._threshold(meta, context))
            time.sleep(self.stream_interval)

    def GetMetricSpec(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        meta = dict(request.scalerMetadata)
        try:
            target = float(meta.get("targetSize", "1"))
        except ValueError:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "targetSize must be a number")
        if target <= 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "targetSize must be > 0")
        return pb2.GetMetricSpecResponse(metricSpecs=[pb2.MetricSpec(
            metricName=METRIC_NAME, targetSize=max(round(target), 1),
            targetSizeFloat=target)])

    def GetMetrics(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        answer, _ = self._answer(request.scaledObjectRef, context)
        return pb2.GetMetricsResponse(metricValues=[pb2.MetricValue(
            metricName=request.metricName or METRIC_NAME,
            metricValue=math.ceil(answer.value), metricValueFloat=answer.value)])


@dataclass
class RunningServer:
    server: grpc.Server
    port: int

    def stop(self, grace: float = 0.5) -> None:
        self.server.stop(grace).wait()


def serve(scaler: ExternalScaler, host: str = "127.0.0.1", port: int = 0,
          workers: int = 4) -> RunningServer:
    """Start the gRPC server (port 0: any free port); returns it with the bound port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    pb2_grpc.add_ExternalScalerServicer_to_server(scaler, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    server.start()
    return RunningServer(server, bound)


def metrics_hook(port: int | None) -> Callable[[str, str, Answer], None] | None:
    """Export each answer as `autoscale_forecast_requests_per_second` (forecast-error alert)."""
    if port is None:
        return None
    from prometheus_client import Gauge, start_http_server

    gauge = Gauge("autoscale_forecast_requests_per_second",
                  "Forecast request rate (max of current and peak within the lead)",
                  ["namespace", "deployment"])
    start_http_server(port, addr="127.0.0.1")
    lock = threading.Lock()

    def record(namespace: str, deployment: str, answer: Answer) -> None:
        with lock:
            gauge.labels(namespace, deployment).set(answer.value)

    return record
