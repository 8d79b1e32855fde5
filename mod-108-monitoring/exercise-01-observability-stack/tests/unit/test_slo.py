"""SLO spec parsing, window scaling, generated rules and their promtool tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aiinfra_shared.testing import prom

from obsstack import slo

SPEC = Path(__file__).parents[2] / "deploy" / "slo" / "slos.yaml"


def _spec(**slo_fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "availability", "objective": 99.9, "sli": {"events": {
        "error_query": 'sum(rate(x_total{code=~"5.."}[{{.window}}]))',
        "total_query": "sum(rate(x_total[{{.window}}]))"}}}
    base.update(slo_fields)
    return {"service": "svc", "slos": [base]}


def _windows(spec: slo.SloSpec) -> list[tuple[str, float, str, str]]:
    return [(w.severity, w.factor, slo.format_duration(w.long_s),
             slo.format_duration(w.short_s)) for w in spec.windows]


@pytest.mark.points(3)
def test_30_day_windows_are_the_sre_workbook_ones() -> None:
    spec = slo.parse_spec(_spec())
    assert _windows(spec) == [("page", 14.4, "1h", "5m"), ("page", 6.0, "6h", "30m"),
                              ("ticket", 3.0, "1d", "2h"), ("ticket", 1.0, "3d", "6h")]


@pytest.mark.points(3)
def test_other_periods_scale_the_windows() -> None:
    week = slo.parse_spec({**_spec(), "time_window": "7d"})
    assert _windows(week) == [("page", 14.4, "14m", "1m10s"), ("page", 6.0, "1h24m", "7m"),
                              ("ticket", 3.0, "5h36m", "28m"), ("ticket", 1.0, "16h48m", "1h24m")]
    fast = slo.parse_spec({**_spec(), "time_window": "12h"})
    assert _windows(fast)[0] == ("page", 14.4, "1m", "5s")


@pytest.mark.points(2)
def test_durations_round_trip() -> None:
    assert slo.parse_duration("1h30m") == 5400
    assert slo.format_duration(5400) == "1h30m"
    assert slo.format_duration(86400 * 3) == "3d"
    with pytest.raises(slo.SloSpecError):
        slo.parse_duration("10 minutes")


@pytest.mark.points(1)
@pytest.mark.parametrize(("change", "message"), [
    ({"objective": 100}, "leaves no error budget"),
    ({"objective": 100.5}, "leaves no error budget"),
    ({"objective": None}, "objective"),
    ({"sli": {"events": {"error_query": "sum(rate(x[{{.window}}]))"}}}, "total_query"),
    ({"sli": {"events": {"error_query": "sum(rate(x[5m]))",
                         "total_query": "sum(rate(y[{{.window}}]))"}}}, "{{.window}}"),
    ({"sli": {}}, "events"),
    ({"sli": {"latency": {"metric": "h"}}}, "threshold"),
    ({"name": "Not Valid"}, "name"),
])
def test_bad_specs_name_the_slo_and_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(slo.SloSpecError, match=None) as info:
        slo.parse_spec(_spec(**change))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.points(3)
def test_error_ratio_for_events_and_latency() -> None:
    spec = slo.parse_spec(_spec())
    expr = slo.error_ratio_expr(spec.slos[0], "5m")
    assert 'sum(rate(x_total{code=~"5.."}[5m]))' in expr
    assert "sum(rate(x_total[5m]))" in expr and "{{.window}}" not in expr
    latency = slo.parse_spec(_spec(sli={"latency": {
        "metric": "h_seconds", "selector": 'service="gw"', "threshold": 0.5}}))
    expr = slo.error_ratio_expr(latency.slos[0], "1h")
    assert 'h_seconds_bucket{service="gw", le="0.5"}[1h]' in expr
    assert 'h_seconds_count{service="gw"}[1h]' in expr
    assert expr.replace(" ", "").replace("\n", "").startswith("1-(")


@pytest.mark.points(4)
def test_rules_record_every_window_and_alert_on_pairs() -> None:
    spec = slo.parse_spec(_spec())
    item = spec.slos[0]
    records = [r["record"] for r in slo.sli_rule_groups(spec, item)[0]["rules"]]
    assert records == [f"slo:sli_error:ratio_rate{w}"
                       for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]
    meta, alerts = slo.alert_rule_groups(spec, item)
    meta_records = {r["record"] for r in meta["rules"]}
    assert {"slo:error_budget:ratio", "slo:period_error_budget_remaining:ratio",
            "slo:current_burn_rate:ratio", "slo:sli_error:ratio_rate30d"} <= meta_records
    page, ticket = alerts["rules"]
    assert page["labels"]["severity"] == "page" and ticket["labels"]["severity"] == "ticket"
    assert "ratio_rate1h" in page["expr"] and "ratio_rate5m" in page["expr"]
    assert "(14.4 * 0.001)" in page["expr"]
    assert "ratio_rate3d" in ticket["expr"] and "ratio_rate1h" not in ticket["expr"]


@pytest.mark.points(2)
def test_generated_tests_fix_the_group_order() -> None:
    spec = slo.parse_spec(_spec())
    tests = slo.promtool_tests(spec, spec.slos[0], "rules.yml")
    assert tests["group_eval_order"] == ["slo-meta-svc-availability", "slo-alerts-svc-availability"]
    assert len(tests["tests"]) == 4


def _test_files(directory: Path) -> list[str]:
    return sorted(str(p) for p in (directory / "tests").glob("*.yml"))


def _write(files: dict[str, str], out: Path) -> None:
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)


@pytest.mark.integration
@pytest.mark.points(3)
@pytest.mark.parametrize("period", ["30d", "7d", "12h"])
def test_promtool_passes_the_generated_tests(tmp_path: Path, period: str) -> None:
    data = yaml.safe_load(SPEC.read_text())
    data["time_window"] = period
    _write(slo.render(slo.parse_spec(data)), tmp_path)
    result = prom.rule_tests_pass(*_test_files(tmp_path), cwd=tmp_path / "tests")
    assert result.stdout.count("SUCCESS") == 2, result.stdout


@pytest.mark.integration
@pytest.mark.hidden
@pytest.mark.points(4)
def test_promtool_tests_catch_a_single_window_alert(tmp_path: Path) -> None:
    """Alerting on the short window alone (no multiwindow AND) must fail the spike case."""
    spec = slo.load_spec(SPEC)
    files = slo.render(spec)
    name = "ml-gateway-availability.alerts.rules.yml"
    data = yaml.safe_load(files[name])
    page = data["groups"][1]["rules"][0]
    page["expr"] = ("max(slo:sli_error:ratio_rate5m"
                    '{slo_name="availability"} > (14.4 * 0.001)) '
                    "without (slo_window)")
    files[name] = yaml.safe_dump(data)
    _write(files, tmp_path)
    result = prom.rule_tests_fail(*_test_files(tmp_path), cwd=tmp_path / "tests",
                                  mentioning=["spike already over"])
    assert "spike already over" in result.stderr
