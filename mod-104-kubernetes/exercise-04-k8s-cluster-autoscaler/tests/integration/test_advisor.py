"""The advisor and trace export against a real Prometheus holding a backfilled day."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from autoscale import advisor, traces
from autoscale.adapters.prometheus import PrometheusClient
from autoscale.cli import cli
from autoscale.errors import MetricsUnavailableError
from tests.integration.conftest import BackfilledPrometheus

pytestmark = pytest.mark.integration


def upper_edge(value: float, first: float, ratio: float = 1.05) -> float:
    bucket = int(math.log(value * (ratio - 1) / first + 1) / math.log(ratio))
    return first * (ratio ** (bucket + 1) - 1) / (ratio - 1)


@pytest.fixture(scope="module")
def advice(backfilled: BackfilledPrometheus) -> advisor.Advice:
    h = backfilled.history
    with PrometheusClient(backfilled.url) as client:
        # skip the first 10 minutes: rate() has not a full window there yet
        data = advisor.gather(client, "ml-serving", "web", h.start + 600, h.end, 60)
    return advisor.advise(data, lead_seconds=180)


@pytest.mark.points(4)
def test_advisor_numbers_match_the_hand_computed_ones(advice: advisor.Advice) -> None:
    # rates are constant within each hour: max r_h = 140 (last hour), min r_h = 20
    assert advice.peak_rps == pytest.approx(140, rel=1e-6)
    assert advice.trough_rps == pytest.approx(20, rel=1e-6)
    # both counters follow the same steps, so CPU / rate is 0.01 at every point
    assert advice.cores_per_rps == pytest.approx(0.01, rel=1e-6)
    # memory: the newest day's peak (768 MiB on web-b) carries the p90 -> its bucket edge
    assert advice.vpa.target.memory == pytest.approx(upper_edge(768 * 1024**2, 1e7) * 1.15)
    # CPU per pod is 0.01 * r_h / 2; the p90 of the decayed histogram lies in the top
    # hours (r_h 120..140 -> 0.6..0.7 cores per pod)
    assert upper_edge(0.6, 0.01) * 1.15 <= advice.vpa.target.cpu <= upper_edge(0.7, 0.01) * 1.15
    # the sharpest rise: 20 -> 30/s at an hour boundary, seen through rate()'s 5 m window
    # (Prometheus 2.x includes the sample at the window's left edge: 6 samples, 5 one-minute
    # intervals): three minutes in, (2 * 20 + 3 * 30) / 5 = 26 -> +30 %
    assert advice.growth_within_lead == pytest.approx(0.3, abs=1e-6)
    assert advice.hpa_cpu_target == 75  # 100 / 1.3 = 76.9 -> multiple of 5 below
    capacity = advice.vpa.target.cpu / 0.01
    assert advice.per_pod_capacity_rps == pytest.approx(capacity, rel=1e-6)
    assert advice.hpa_rps_target == pytest.approx(capacity * 0.75, rel=1e-6)
    assert advice.min_replicas == max(math.ceil(20 / advice.hpa_rps_target), 2)
    assert advice.max_replicas == math.ceil(1.5 * 140 / advice.hpa_rps_target)


@pytest.mark.points(2)
def test_node_mix_puts_the_base_on_demand_and_the_burst_on_spot(advice: advisor.Advice
                                                                ) -> None:
    shares = {s.capacity: s for s in advice.node_mix}
    assert shares["on-demand"].pods == advice.min_replicas
    peak_pods = math.ceil(140 / advice.hpa_rps_target)
    assert shares["on-demand"].pods + shares["spot"].pods == peak_pods
    assert shares["spot"].hourly_cost < shares["spot"].nodes * 0.2  # spot prices


@pytest.mark.points(2)
def test_recommend_cli_json(backfilled: BackfilledPrometheus) -> None:
    result = CliRunner().invoke(cli, ["recommend", "--prometheus", backfilled.url,
                                      "--deployment", "ml-serving/web", "--hours", "25",
                                      "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["hpa"]["cpuAverageUtilization"] in range(40, 90, 5)
    assert body["evidence"]["peakRps"] == pytest.approx(140, rel=1e-6)
    table = CliRunner().invoke(cli, ["recommend", "--prometheus", backfilled.url,
                                     "--deployment", "ml-serving/web"])
    assert table.exit_code == 0 and "VPA memory request" in table.output


@pytest.mark.points(2)
@pytest.mark.hidden
def test_no_data_and_ambiguous_queries_are_errors(backfilled: BackfilledPrometheus) -> None:
    missing = CliRunner().invoke(cli, ["recommend", "--prometheus", backfilled.url,
                                       "--deployment", "ml-serving/nothing"])
    assert missing.exit_code == 4
    assert missing.output.startswith("error: query returned no series")
    with PrometheusClient(backfilled.url) as client, \
            pytest.raises(MetricsUnavailableError, match="returned 2 series"):
        client.scalar('autoscale_forecast_requests_per_second{deployment="dup"}')


@pytest.mark.points(2)
def test_trace_export_round_trips(backfilled: BackfilledPrometheus, tmp_path: Path) -> None:
    out = tmp_path / "day.csv"
    query = 'sum(rate(http_requests_total{deployment="web"}[5m]))'
    result = CliRunner().invoke(cli, ["trace", "export", "--prometheus", backfilled.url,
                                      "--query", query, "--hours", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = traces.load(out)
    assert exported.step == 60
    assert max(exported.values) == pytest.approx(140, rel=1e-3)
    several = CliRunner().invoke(cli, ["trace", "export", "--prometheus", backfilled.url,
                                       "--query", "rate(http_requests_total[5m])",
                                       "--out", str(tmp_path / "x.csv")])
    assert several.exit_code == 4 and "series, expected one" in several.output
    assert not (tmp_path / "x.csv").exists()
