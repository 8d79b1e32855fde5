"""aiinfra_shared.testing.prom without programs: walking dashboards, variables, the tool policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aiinfra_shared.testing import prom

DASHBOARD: dict[str, Any] = {
    "title": "Serving",
    "uid": "serving",
    "annotations": {"list": [
        {"builtIn": 1, "name": "Annotations & Alerts", "datasource": {"type": "grafana"}},
        {"name": "Deploys", "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "expr": 'changes(build_info{job="$job"}[5m]) > 0'},
    ]},
    "panels": [
        {"type": "timeseries", "title": "Requests",
         "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "targets": [{"refId": "A", "expr": 'sum(rate(http_requests_total{job="$job"}'
                                            "[$__rate_interval]))"},
                     {"refId": "B", "expr": "sum(up)"}]},
        {"type": "row", "title": "Details", "collapsed": True, "panels": [
            {"type": "stat", "title": "Errors", "targets": [
                {"refId": "A", "expr": 'sum(rate(http_requests_total{code="500"}[5m]))'}]},
        ]},
        {"type": "logs", "title": "Logs", "datasource": {"type": "loki", "uid": "loki"},
         "targets": [{"refId": "A", "expr": '{job="api"} |= "error"'}]},
        {"type": "text", "title": "Read me"},
    ],
    "rows": [{"panels": [{"title": "Legacy", "targets": [{"refId": "A", "expr": "sum(up)"}]}]}],
}


def test_dashboard_queries_walk_rows_legacy_rows_and_annotations() -> None:
    queries = prom.dashboard_queries(DASHBOARD)
    assert [(q.title, q.ref_id) for q in queries] == [
        ("Requests", "A"), ("Requests", "B"), ("Errors", "A"), ("Legacy", "A"),
        ("annotation Deploys", "")]
    assert queries[0].expr.endswith("[$__rate_interval]))")  # as written
    assert all(q.dashboard == "Serving" for q in queries)
    assert queries[2].where() == "Serving / Errors [A]"
    assert len(prom.dashboard_queries(DASHBOARD, annotations=False)) == 4


def test_dashboard_queries_read_a_file_and_the_api_wrapper(tmp_path: Path) -> None:
    path = tmp_path / "board.json"
    path.write_text(json.dumps({"dashboard": DASHBOARD, "overwrite": True}))
    assert prom.dashboard_queries(path) == prom.dashboard_queries(DASHBOARD)


def test_substitute_variables_forms_defaults_and_unknown_names() -> None:
    expr = 'rate(x{a="$team", b="${team}", c=~"${team:regex}", d="[[team]]"}[$__rate_interval])'
    assert prom.substitute_variables(expr, {"team": "ml"}) == (
        'rate(x{a="ml", b="ml", c=~"ml", d="ml"}[5m])')
    assert prom.substitute_variables("rate(x[$__rate_interval])",
                                     {"__rate_interval": "5s"}) == "rate(x[5s])"
    assert prom.substitute_variables('x{a=~".*$"}') == 'x{a=~".*$"}'  # a regex anchor stays
    with pytest.raises(ValueError, match=r"\['team'\]"):
        prom.substitute_variables('x{a="$team"}')


@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception),
                                             ("true", pytest.fail.Exception)])
def test_a_missing_promtool_skips_on_a_laptop_and_fails_under_ci(
        monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]) -> None:
    monkeypatch.setattr(prom, "require_binary", _missing)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="apt-get install prometheus"):
        prom.promtool_path()
    with pytest.raises(outcome, match="apt-get install prometheus-alertmanager"):
        prom.amtool("--version")


def _missing(name: str, hint: str) -> str:
    from aiinfra_shared.procs.binaries import MissingBinaryError

    raise MissingBinaryError(name, hint)
