"""Monitoring as code: committed deploy/ files, rule hygiene, dashboard queries' metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streamml import metrics, monitoring

ROOT = Path(__file__).resolve().parents[2]
METRIC = re.compile(r"streamml_[a-z_]+")


def _known_metrics() -> set[str]:
    names = set()
    for value in vars(metrics).values():
        describe = getattr(value, "describe", None)
        if callable(describe) and hasattr(value, "_name"):
            for family in describe():
                names.add(family.name)
                names |= {f"{family.name}_{s}" for s in ("total", "bucket", "count", "sum")}
    return names | {"streamml_consumer_lag_records", "streamml_lag_exporter_up"}


@pytest.mark.points(2)
def test_committed_deploy_files_match_the_code() -> None:
    for name, text in monitoring.render_files().items():
        assert (ROOT / "deploy" / name).read_text() == text, f"deploy/{name} is stale"


@pytest.mark.points(2)
def test_every_rule_has_severity_runbook_and_known_metrics() -> None:
    runbooks = (ROOT / "docs" / "runbooks.md").read_text().lower()
    known = _known_metrics()
    for rule in monitoring.alerting_rules()["groups"][0]["rules"]:
        assert rule["labels"]["severity"] in monitoring.SEVERITY_RECEIVERS
        anchor = rule["annotations"]["runbook"].split("#")[1]
        assert f"## {anchor}" in runbooks
        assert set(METRIC.findall(rule["expr"])) <= known, rule["expr"]


@pytest.mark.points(2)
def test_dashboard_panels_use_known_metrics_and_a_clean_grid() -> None:
    board = monitoring.dashboard()
    known = _known_metrics()
    ids, cells = set(), set()
    for panel in board["panels"]:
        assert panel["id"] not in ids
        ids.add(panel["id"])
        cell = (panel["gridPos"]["x"], panel["gridPos"]["y"])
        assert cell not in cells
        cells.add(cell)
        for target in panel["targets"]:
            assert set(METRIC.findall(target["expr"])) <= known, target["expr"]
    assert board["templating"]["list"][0]["type"] == "datasource"


@pytest.mark.points(1)
@pytest.mark.hidden
def test_fast_params_change_only_durations() -> None:
    slow, fast = monitoring.RuleParams(), monitoring.RuleParams.fast()
    assert (slow.lag_records, slow.dlq_ratio, slow.late_rows) == (
        fast.lag_records, fast.dlq_ratio, fast.late_rows)
    assert fast.lag_for == "1s" and slow.lag_for == "5m"
