"""aiinfra_shared.testing.prom on the real toolchain: promtool, amtool and a backfilled
Prometheus answering (or not) a dashboard's panels."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiinfra_shared.testing import Prometheus, prom

pytestmark = pytest.mark.integration

RULES = {"groups": [
    {"name": "demo.recording", "rules": [
        {"record": "job:errors:ratio_rate5m",
         "expr": 'sum by (job) (rate(http_requests_total{code="500"}[5m])) / '
                 "sum by (job) (rate(http_requests_total[5m]))"}]},
    {"name": "demo.alerts", "rules": [
        {"alert": "DemoHighErrorRate", "expr": "job:errors:ratio_rate5m > 0.05", "for": "5m",
         "labels": {"severity": "page"},
         "annotations": {"summary": "{{ $labels.job }} errors at {{ $value }}"}}]},
]}


def _rule_test(error_share: int) -> dict[str, Any]:
    """10 % of requests fail for `error_share` = 10: the alert must fire after its 5m."""
    return {
        "rule_files": ["../rules.yml"],
        "evaluation_interval": "1m",
        # recording then alerting group: without an order promtool picks one at random
        "group_eval_order": ["demo.recording", "demo.alerts"],
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": 'http_requests_total{job="api",code="200"}',
                 "values": f"0+{100 - error_share}x20"},
                {"series": 'http_requests_total{job="api",code="500"}',
                 "values": f"0+{error_share}x20"}],
            "alert_rule_test": [{"eval_time": "15m", "alertname": "DemoHighErrorRate",
                                 "exp_alerts": [{"exp_labels": {"job": "api",
                                                                "severity": "page"},
                                                 "exp_annotations": {
                                                     "summary": "api errors at 0.1"}}]}],
        }],
    }


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(RULES, sort_keys=False))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "pass_test.yml").write_text(yaml.safe_dump(_rule_test(10)))
    (tmp_path / "tests" / "fail_test.yml").write_text(yaml.safe_dump(_rule_test(1)))
    return tmp_path


def test_check_rules_passes_good_rules_and_shows_promtools_error(rules_dir: Path) -> None:
    result = prom.check_rules("rules.yml", cwd=rules_dir)
    assert "SUCCESS: 2 rules found" in result.stdout
    broken = rules_dir / "broken.yml"
    broken.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"alert": "Broken", "expr": "sum(rate(x[5m]) >"}]}]}))
    with pytest.raises(AssertionError, match=r"(?s)check rules .*exited 1.*parse error"):
        prom.check_rules(broken)


def test_check_config_checks_the_rule_files_it_names(rules_dir: Path) -> None:
    (rules_dir / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"evaluation_interval": "30s"}, "rule_files": ["rules.yml"]}))
    assert "SUCCESS: 2 rules found" in prom.check_config("prometheus.yml", cwd=rules_dir).stdout


def test_rule_tests_pass_and_fail_with_promtools_report(rules_dir: Path) -> None:
    passed = prom.rule_tests_pass("tests/pass_test.yml", cwd=rules_dir)
    assert "SUCCESS" in passed.stdout
    # 1 % errors: the alert the test expects never fires
    failed = prom.rule_tests_fail("tests/fail_test.yml", cwd=rules_dir,
                                  mentioning=["DemoHighErrorRate"])
    assert "FAILED" in prom.output(failed)
    with pytest.raises(AssertionError, match=r"(?s)exited 1.*DemoHighErrorRate"):
        prom.rule_tests_pass("tests/fail_test.yml", cwd=rules_dir)
    with pytest.raises(AssertionError, match=r"does not mention \['NoSuchAlert'\]"):
        prom.rule_tests_fail("tests/fail_test.yml", cwd=rules_dir, mentioning=["NoSuchAlert"])
    with pytest.raises(AssertionError, match="expected to fail"):
        prom.rule_tests_fail(rules_dir / "tests" / "pass_test.yml")


def test_amtool_checks_the_config_and_follows_the_routes(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump({
        "route": {"receiver": "tickets", "routes": [
            {"receiver": "oncall", "matchers": ['severity="page"']}]},
        "receivers": [{"name": "tickets"}, {"name": "oncall"}]}))
    assert "2 receivers" in prom.check_alertmanager_config(config).stdout
    assert prom.amtool_route(config, "severity=page", "alertname=X") == "oncall"
    assert prom.amtool_route(config, "severity=info") == "tickets"
    config.write_text("route: {receiver: nobody}\nreceivers: []\n")
    with pytest.raises(AssertionError, match="nobody"):
        prom.check_alertmanager_config(config)


def _history(now: float) -> str:
    """An hour of one counter, one sample a minute, the newest 1 minute before `now`."""
    lines = ["# TYPE http_requests counter"]
    for minute in range(60, 0, -1):
        lines.append(f'http_requests_total{{job="api",team="ml"}} {(60 - minute) * 60} '
                     f"{int(now) - minute * 60}")
    return "\n".join([*lines, "# EOF"]) + "\n"


def _board(*panels: tuple[str, str]) -> dict[str, Any]:
    return {"title": "Demo", "templating": {"list": [{"name": "team"}]}, "panels": [
        {"type": "row", "title": "Traffic", "collapsed": True, "panels": [
            {"title": title, "type": "timeseries",
             "targets": [{"refId": "A", "expr": expr}]} for title, expr in panels]}]}


def test_panels_return_data_from_a_backfilled_prometheus(
        prometheus_factory: Callable[..., Prometheus]) -> None:
    now = time.time()
    prometheus = prometheus_factory({"global": {"scrape_interval": "15s"}},
                                    backfill=_history(now))
    requests = ("Requests", 'sum(rate(http_requests_total{team="$team"}[$__rate_interval]))')
    ran = prom.assert_panels_return_data(prometheus.url, _board(requests), at=now,
                                         variables={"team": "ml"})
    assert [q.expr for q in ran] == ['sum(rate(http_requests_total{team="ml"}[5m]))']
    # range form over the backfilled hour, ending long after the last sample of a team
    prom.assert_panels_return_data(prometheus.url, _board(requests), at=now + 1800,
                                   window=3600, step=60, variables={"team": "ml"})

    missing = ("Typo in the metric", 'sum(rate(http_request_total{team="$team"}[5m]))')
    with pytest.raises(AssertionError) as failure:
        prom.assert_panels_return_data(prometheus.url, _board(requests, missing), at=now,
                                       variables={"team": "ml"})
    message = str(failure.value)
    assert "1 of 2 dashboard queries returned no data" in message
    assert 'Demo / Typo in the metric [A]: sum(rate(http_request_total{team="ml"}[5m]))' \
        in message
    assert "Requests" not in message

    # another team's variable value: data exists, just not for this selection
    with pytest.raises(AssertionError, match="Demo / Requests"):
        prom.assert_panels_return_data(prometheus.url, _board(requests), at=now,
                                       variables={"team": "search"})
    # 0/0 is NaN: an answer by default (a quiet histogram_quantile), no data when asked
    nan = _board(("Ratio", "vector(0) / 0"), ("Scalar", "0 / 0"))
    prom.assert_panels_return_data(prometheus.url, nan, at=now)
    with pytest.raises(AssertionError, match=r"(?s)2 of 2 .*Ratio.*Scalar"):
        prom.assert_panels_return_data(prometheus.url, nan, at=now, nan_is_data=False)
    rejected = ("Broken", "sum(rate(http_requests_total[5m])")
    with pytest.raises(AssertionError, match=r"(?s)Demo / Broken.*rejected: bad_data"):
        prom.assert_panels_return_data(prometheus.url, _board(rejected), at=now)
    with pytest.raises(AssertionError, match="no PromQL query"):
        prom.assert_panels_return_data(prometheus.url, {"title": "Empty", "panels": []})
