"""The chargeback report and dashboards against real Prometheus over backfilled history."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from gpufleet import backfill, dashboards, report
from gpufleet import fleet as fleetfile
from gpufleet.profiles import MODELS, slice_weight
from gpufleet.promclient import PrometheusClient
from tests.helpers import ROOT, run_cli, write_fleet
from tests.integration.conftest import MONTH, SMALL_FLEET, Backfilled

pytestmark = pytest.mark.integration

PLANTED = {
    "scrapeIntervalSeconds": 30,
    "pools": [{"name": "h100", "model": "H100-80GB", "gpus": 8}],
    "teams": [{"name": "a", "namespace": "team-a", "quota": {"h100": 3}}],
    "prices": {"H100-80GB": "2.50"},
}


@pytest.mark.points(4)
def test_planted_series_give_the_known_answer(planted_prometheus: str, tmp_path: Path) -> None:
    """3 GPUs, 2 h at 40 %: 6.0 allocated, 2.4 used, 3.6 idle GPU-hours, $15.00 at $2.50."""
    fleet = write_fleet(tmp_path / "fleet.yaml", PLANTED)
    result = run_cli("report", "--fleet", str(fleet), "--prometheus", planted_prometheus,
                     "--month", MONTH, "--json", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    rows = {r["team"]: r for r in json.loads(result.stdout)["rows"]}
    assert (rows["a"]["allocated_gpu_h"], rows["a"]["used_gpu_h"], rows["a"]["idle_gpu_h"],
            rows["a"]["cost_usd"]) == ("6.00", "2.40", "3.60", "15.00")
    assert rows["total"]["cost_usd"] == "15.00"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"chargeback-{MONTH}.csv", f"chargeback-{MONTH}.html", f"chargeback-{MONTH}.md"]
    csv = (tmp_path / "out" / f"chargeback-{MONTH}.csv").read_text().splitlines()
    assert csv[1] == "a,team-a,6.00,2.40,3.60,15.00"


SHARED = {
    "scrapeIntervalSeconds": 30,
    "pools": [{"name": "l4", "model": "L4", "gpus": 2, "timeSlicingReplicas": 4}],
    "teams": [{"name": "a", "namespace": "team-a", "quota": {"l4": 4}},
              {"name": "b", "namespace": "team-b", "quota": {"l4": 2}},
              {"name": "c", "namespace": "team-c", "quota": {"l4": 2}}],
    "prices": {"L4": "0.80"},
}


def _shared_rows(url: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    fleet = write_fleet(tmp_path / "fleet.yaml", SHARED)
    result = run_cli("report", "--fleet", str(fleet), "--prometheus", url, "--month", MONTH,
                     "--json")
    assert result.returncode == 0, result.stderr
    return {r["team"]: r for r in json.loads(result.stdout)["rows"]}


@pytest.mark.points(4)
def test_time_sliced_gpu_is_split_by_sm_utilisation(shared_prometheus: str, tmp_path: Path
                                                    ) -> None:
    """GPU 0, time-sliced: a at 60 % SM and b at 20 % for 2 h (3:1), then 1 h nobody computes
    (split evenly): a 1.5 + 0.5 = 2.0 h, b 0.5 + 0.5 = 1.0 h. Charging whole GPUs per pod (the
    duplicated dcgm series) would bill 3 h each for one GPU's 3 h."""
    rows = _shared_rows(shared_prometheus, tmp_path)
    b = rows["b"]
    assert (b["allocated_gpu_h"], b["used_gpu_h"], b["idle_gpu_h"], b["cost_usd"]) == (
        "1.00", "0.40", "0.60", "0.80")
    # a also holds GPU 1 (below): 2.0 h on GPU 0 + 2.0 h on GPU 1
    assert rows["a"]["allocated_gpu_h"] == "4.00" and rows["a"]["cost_usd"] == "3.20"
    assert rows["a"]["used_gpu_h"] == "2.20"  # 60 % x 2 h + 50 % x 2 h
    # 5 GPU-hours in all (GPU 0 3 h, GPU 1 2 h), each counted once; nothing unallocated
    assert rows["total"]["allocated_gpu_h"] == "5.00"
    assert rows["total"]["cost_usd"] == "4.00" and rows["(unallocated)"]["cost_usd"] == "0.00"


@pytest.mark.points(2)
@pytest.mark.hidden
def test_an_idle_pod_beside_a_busy_one_pays_nothing(shared_prometheus: str, tmp_path: Path
                                                    ) -> None:
    """GPU 1: c's process sits at 0 % SM while a computes at 50 %: the GPU is a's alone."""
    rows = _shared_rows(shared_prometheus, tmp_path)
    assert (rows["c"]["allocated_gpu_h"], rows["c"]["cost_usd"]) == ("0.00", "0.00")
    assert sum(Decimal(r["cost_usd"]) for k, r in rows.items() if k != "total") == \
        Decimal("4.00")


@pytest.mark.points(4)
def test_month_report_matches_the_generated_truth_to_the_cent(month_prometheus: Backfilled
                                                              ) -> None:
    fleet, truth = month_prometheus.fleet, month_prometheus.truth
    built = report.build(fleet, PrometheusClient(month_prometheus.url), MONTH)
    hours = Decimal(fleet.scrape_interval_s) / 3600
    model_of = {MODELS[k].dcgm_name: k for k in MODELS}
    assert any(truth.shared_allocated.values())  # the L4 pool is time-sliced
    for row in built.rows[:-1]:
        expected = sum((Decimal(n) * hours * slice_weight(model_of[m], p or None)
                        for (ns, m, p), n in truth.allocated_samples.items()
                        if ns == row.namespace), Decimal(0))
        shared = sum((Decimal(str(x)) * hours for (ns, _), x in truth.shared_allocated.items()
                      if ns == row.namespace), Decimal(0))
        assert abs(row.allocated - expected - shared) < Decimal("1e-6")
        used = sum((Decimal(str(u)) / 100 * hours
                    * slice_weight(model_of[m], p or None)
                    for (ns, m, p), u in truth.util_sum.items() if ns == row.namespace),
                   Decimal(0))
        used += sum((Decimal(str(u)) / 100 * hours
                     for (ns, _), u in truth.shared_sm_sum.items() if ns == row.namespace),
                    Decimal(0))
        assert abs(row.used - used) < Decimal("0.001")
        assert row.used <= row.allocated
    all_hours = sum((Decimal(n) * hours * slice_weight(model_of[m], p or None)
                     for (m, p), n in truth.all_samples.items()), Decimal(0))
    assert abs(built.fleet_gpu_hours - all_hours) < Decimal("1e-6")
    # 6 GPUs (4 H100 + one A100 cut in 3 x 2/7 + one time-sliced L4) for 30 days
    assert abs(built.fleet_gpu_hours - (Decimal(720) * 5 + Decimal(720) * 6 / 7)) < \
        Decimal("1e-6")
    assert built.total("cost") == built.fleet_cost
    assert built.fleet_cost == (sum(
        (Decimal(n) * hours * slice_weight(model_of[m], p or None)
         * fleet.prices[model_of[m]] for (m, p), n in truth.all_samples.items()),
        Decimal(0))).quantize(Decimal("0.01"))
    assert built.rows[-1].team == report.UNALLOCATED and built.rows[-1].cost > 0


@pytest.mark.points(2)
@pytest.mark.hidden
def test_cents_split_by_largest_remainder() -> None:
    parts = [Decimal("1.005"), Decimal("1.005"), Decimal("1.005")]
    assert report.split_cents(parts, Decimal("3.02")) == [
        Decimal("1.01"), Decimal("1.01"), Decimal("1.00")]
    assert sum(report.split_cents([Decimal("0.3333")] * 3, Decimal("1.00"))) == Decimal("1.00")


@pytest.mark.points(2)
def test_prometheus_down_exits_5_and_writes_nothing(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet.yaml", SMALL_FLEET)
    result = run_cli("report", "--fleet", str(fleet), "--prometheus", "http://127.0.0.1:9",
                     "--month", MONTH, "--out", str(tmp_path / "out"))
    assert result.returncode == 5
    assert len(result.stderr.strip().splitlines()) == 1
    assert "unreachable" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.points(3)
def test_every_dashboard_panel_passes_promtool_and_returns_data(month_prometheus: Backfilled,
                                                                tmp_path: Path) -> None:
    queries = dashboards.panel_queries(month_prometheus.fleet)
    rules = {"groups": [{"name": f"dash-{board}", "rules": [
        {"record": f"dash:{board}:{i}", "expr": expr}
        for i, expr in enumerate(panels.values())]} for board, panels in queries.items()]}
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump(rules))
    check = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    start, end = backfill.month_bounds(MONTH)
    for board, panels in queries.items():
        for title, expr in panels.items():
            # as Grafana asks: a range query over the dashboard's time range
            series = month_prometheus.server.query_range(expr, start, end, step=3600)
            assert series and any(s["values"] for s in series), f"{board}/{title}: no data"
    written = dashboards.dashboards(month_prometheus.fleet)
    assert set(written) == {"fleet", "team", "node"}


@pytest.mark.points(3)
def test_promtool_rule_tests_pass_and_for_durations_matter(tmp_path: Path) -> None:
    tests = ROOT / "deploy" / "prometheus" / "tests"
    result = run_cli("monitoring", "--fleet", "examples/fleet.yaml", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (tmp_path / "prometheus" / "tests").mkdir()
    for name in ("rules_test.yml", "budget_test.yml"):
        (tmp_path / "prometheus" / "tests" / name).write_text((tests / name).read_text())
    ok = subprocess.run(["promtool", "test", "rules", "rules_test.yml", "budget_test.yml"],
                        cwd=tmp_path / "prometheus" / "tests", capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rules = tmp_path / "prometheus" / "rules.yml"
    rules.write_text(rules.read_text().replace("for: 5m", "for: 1m"))
    loose = subprocess.run(["promtool", "test", "rules", "rules_test.yml"],
                           cwd=tmp_path / "prometheus" / "tests", capture_output=True,
                           text=True, check=False)
    assert loose.returncode != 0 and "GpuTooHot" in loose.stdout + loose.stderr


@pytest.mark.points(1)
@pytest.mark.hidden
def test_shipped_rules_are_the_rendered_ones() -> None:
    from gpufleet import rules

    fleet = fleetfile.load(ROOT / "examples" / "fleet.yaml")
    shipped = yaml.safe_load((ROOT / "deploy" / "prometheus" / "rules.yml").read_text())
    assert shipped == rules.rule_groups(fleet)


@pytest.mark.points(2)
def test_backfill_command_loads_blocks_with_promtool(tmp_path: Path) -> None:
    tiny = {"scrapeIntervalSeconds": 3600,
            "pools": [{"name": "h100", "model": "H100-80GB", "gpus": 2}],
            "teams": [{"name": "a", "namespace": "team-a", "quota": {"h100": 2}}],
            "prices": {"H100-80GB": "2.50"}}
    fleet = write_fleet(tmp_path / "fleet.yaml", tiny)
    data = tmp_path / "tsdb"
    result = run_cli("backfill", "--fleet", str(fleet), "--month", MONTH, "--data-dir",
                     str(data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"backfilled 1440 samples for {MONTH}")  # 2 x 720 h
    listing = subprocess.run(["promtool", "tsdb", "list", str(data)], capture_output=True,
                             text=True, check=True).stdout
    samples = sum(int(line.split()[4]) for line in listing.splitlines()[1:] if line.strip())
    assert samples == 1440
    assert not list(tmp_path.glob("*.om"))
    bad = run_cli("backfill", "--fleet", str(fleet), "--month", "2026-13", "--data-dir",
                  str(tmp_path / "other"))
    assert bad.returncode == 2 and not (tmp_path / "other").exists()
