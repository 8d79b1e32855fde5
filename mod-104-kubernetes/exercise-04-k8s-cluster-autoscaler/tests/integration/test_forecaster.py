"""The forecaster as a KEDA external scaler, called through a real gRPC client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from autoscale.adapters.prometheus import PrometheusClient
from autoscale.forecaster import server
from autoscale.forecaster.proto import SERVICE, pb2, pb2_grpc
from autoscale.policies import predictive
from tests.integration.conftest import BackfilledPrometheus

pytestmark = pytest.mark.integration


def daily_spike_history(days: int = 2) -> list[float]:
    """10/s all day, 100/s from 10:00 to 11:00; ends at 09:50 of the last day."""
    day = [10.0] * 1440
    day[600:660] = [100.0] * 60
    return day * (days - 1) + day[:590]


@pytest.fixture
def stub() -> Iterator[Any]:
    scaler = server.ExternalScaler(server.StaticSource(daily_spike_history()),
                                   predictive.Method.SEASONAL_NAIVE, default_lead=900,
                                   stream_interval=0.05)
    running = server.serve(scaler, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield pb2_grpc.ExternalScalerStub(channel)
    channel.close()
    running.stop()


def ref(**meta: str) -> Any:
    return pb2.ScaledObjectRef(name="web", namespace="ml-serving", scalerMetadata=meta)


@pytest.mark.points(3)
def test_get_metrics_forecasts_the_spike_ahead(stub: Any) -> None:
    """At 09:50 with a 15-minute lead the daily 10:00 spike is inside the window: the answer
    is the spike's rate, although the current rate is 10."""
    spec = stub.GetMetricSpec(ref(targetSize="17.5"))
    assert [(m.metricName, m.targetSize, m.targetSizeFloat) for m in spec.metricSpecs] == \
        [(server.METRIC_NAME, 18, 17.5)]
    got = stub.GetMetrics(pb2.GetMetricsRequest(scaledObjectRef=ref(),
                                                metricName=server.METRIC_NAME))
    (value,) = got.metricValues
    assert value.metricValueFloat == pytest.approx(100.0)
    assert value.metricValue == 100
    near = stub.GetMetrics(pb2.GetMetricsRequest(scaledObjectRef=ref(leadSeconds="60"),
                                                 metricName=server.METRIC_NAME))
    assert near.metricValues[0].metricValueFloat == pytest.approx(10.0)  # never below now


@pytest.mark.points(2)
def test_is_active_and_stream(stub: Any) -> None:
    assert stub.IsActive(ref(activationThreshold="50")).result is True
    assert stub.IsActive(ref(activationThreshold="150")).result is False
    stream = stub.StreamIsActive(ref(activationThreshold="50"))
    first = [next(stream).result for _ in range(2)]
    stream.cancel()
    assert first == [True, True]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_bad_metadata_and_missing_data_are_grpc_errors(stub: Any,
                                                       backfilled: BackfilledPrometheus) -> None:
    with pytest.raises(grpc.RpcError) as info:
        stub.GetMetricSpec(ref(targetSize="lots"))
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as info:
        stub.IsActive(ref(activationThreshold="high"))
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    source = server.PrometheusSource(PrometheusClient(backfilled.url), days=1)
    running = server.serve(server.ExternalScaler(source), port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            remote = pb2_grpc.ExternalScalerStub(channel)
            with pytest.raises(grpc.RpcError) as info:
                remote.GetMetrics(pb2.GetMetricsRequest(
                    scaledObjectRef=pb2.ScaledObjectRef(name="nothing",
                                                        namespace="ml-serving")))
            assert info.value.code() is grpc.StatusCode.UNAVAILABLE
            assert "no series" in info.value.details()
    finally:
        running.stop()


@pytest.mark.points(2)
def test_prometheus_backed_forecast(backfilled: BackfilledPrometheus) -> None:
    """A day of history: seasonal-naive. The answer is never below the current rate."""
    source = server.PrometheusSource(PrometheusClient(backfilled.url), days=1.05,
                                     clock=lambda: float(backfilled.history.end))
    answer = server.forecast(source, "ml-serving", "web", 240,
                             predictive.Method.HOLT_WINTERS)
    assert answer.current == pytest.approx(140, rel=1e-3)
    assert answer.method == "seasonal-naive"  # one season only: Holt-Winters needs two
    assert answer.value >= answer.current


@pytest.mark.points(1)
def test_service_name_is_wire_compatible() -> None:
    service = pb2.DESCRIPTOR.services_by_name["ExternalScaler"]
    assert service.full_name == SERVICE == "externalscaler.ExternalScaler"
    assert [m.name for m in service.methods] == ["IsActive", "StreamIsActive",
                                                 "GetMetricSpec", "GetMetrics"]
    assert pb2.MetricValue.DESCRIPTOR.fields_by_name["metricValueFloat"].number == 3
    assert pb2.ScaledObjectRef.DESCRIPTOR.fields_by_name["scalerMetadata"].number == 3


@pytest.mark.points(2)
def test_forecaster_command_serves_grpc_and_metrics(service_process: Any, free_port: int,
                                                    tmp_path: Any) -> None:
    """`autoscale forecaster --trace` as its own process: KEDA's calls over the network, and
    each answer exported as `autoscale_forecast_requests_per_second`."""
    import httpx
    from aiinfra_shared.procs.ports import free_port as another_port

    from tests.helpers import EXAMPLES, EXE

    metrics_port = another_port()
    service_process("forecaster", [EXE, "forecaster", "--trace",
                                   str(EXAMPLES / "traces" / "spike.csv"), "--port",
                                   str(free_port), "--metrics-port", str(metrics_port),
                                   "--method", "seasonal-naive"],
                    ready_tcp=("127.0.0.1", free_port))
    with grpc.insecure_channel(f"127.0.0.1:{free_port}") as channel:
        remote = pb2_grpc.ExternalScalerStub(channel)
        got = remote.GetMetrics(pb2.GetMetricsRequest(scaledObjectRef=ref(),
                                                      metricName=server.METRIC_NAME),
                                timeout=30)
    value = got.metricValues[0].metricValueFloat
    assert value > 0
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    line = next(x for x in text.splitlines()
                if x.startswith("autoscale_forecast_requests_per_second{"))
    assert 'deployment="web"' in line and float(line.split()[-1]) == pytest.approx(value)
