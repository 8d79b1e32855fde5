import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from modelmon import dashboards, rules
from modelmon.cli import cli
from modelmon.config import ExporterSettings
from modelmon.demo_model import FEATURES, write_reference
from modelmon.exporter import Exporter, render_snapshot
from modelmon.instrument import ModelMetrics
from modelmon.predlog import LabelRecord, PredictionRecord

ROOT = Path(__file__).resolve().parents[2]


def produced_metric_names(tmp_path: Path) -> set[str]:
    """Every series name the service and the exporter can emit."""
    names = set()
    for family in ModelMetrics().registry.collect():
        for suffix in ("", "_total", "_bucket", "_sum", "_count"):
            names.add(family.name + suffix)
    ref = tmp_path / "ref.json"
    write_reference(ref)
    exporter = Exporter.from_settings(ExporterSettings(
        prediction_log=tmp_path / "p.jsonl", label_log=tmp_path / "l.jsonl",
        references=[ref], min_samples=1, min_labels=1))
    (tmp_path / "p.jsonl").write_text(PredictionRecord(
        "a", 1.0, "churn", "v1", dict.fromkeys(FEATURES, 0.0), 1, 0.9).to_json() + "\n")
    (tmp_path / "l.jsonl").write_text(LabelRecord("a", 1.5, 1, value=0.0).to_json() + "\n")
    exporter.clock = lambda: 2.0
    exporter.step()
    for family in render_snapshot(exporter.snapshot):
        names.add(family.name)
        names.update(s.name for s in family.samples)
    return names | {"up", "ALERTS"}


def referenced_metrics(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # drop label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # drop selectors
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # drop ranges
    expr = re.sub(r"\b\d+(ms|[smhdwy])\b", "", expr)  # drop offset durations
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    keywords = {"sum", "by", "rate", "histogram_quantile", "max", "min", "and", "on", "or",
                "ignoring", "group_left", "absent", "le", "model", "version", "feature",
                "outcome", "metric", "class", "job", "increase", "count", "offset"}
    return {w for w in words if w not in keywords and not w.startswith("modelmon:")}


@pytest.mark.points(2)
def test_every_rule_has_severity_runbook_and_known_metrics(tmp_path: Path) -> None:
    known = produced_metric_names(tmp_path)
    runbooks = (ROOT / "docs" / "runbooks.md").read_text().lower()
    alert_rules = rules.alerting_rules(rules.RuleParams())["groups"][0]["rules"]
    assert {r["alert"] for r in alert_rules} >= {
        "ModelHighLatencyP99", "ModelHighErrorRate", "ModelNoTraffic", "ModelFeatureDrift",
        "ModelAccuracyDrop", "ModelExporterDown"}
    for rule in alert_rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}
        anchor = rule["annotations"]["runbook_url"].split("#")[1]
        assert f"## {anchor}" in runbooks, f"no runbook section for {rule['alert']}"
        assert referenced_metrics(rule["expr"]) <= known, rule["expr"]
    for rule in rules.recording_rules(rules.RuleParams())["groups"][0]["rules"]:
        assert referenced_metrics(rule["expr"]) <= known, rule["expr"]


@pytest.mark.points(2)
def test_fast_params_change_only_durations() -> None:
    slow = rules.alerting_rules(rules.RuleParams())["groups"][0]["rules"]
    fast = rules.alerting_rules(rules.RuleParams.fast())["groups"][0]["rules"]
    for s, f in zip(slow, fast, strict=True):
        assert f["for"] == "2s"
        assert s["labels"] == f["labels"]
        assert re.sub(r"\d+[smh]", "D", s["expr"]) == re.sub(r"\d+[smh]", "D", f["expr"])


@pytest.mark.points(2)
def test_alertmanager_routes_by_severity() -> None:
    config = rules.alertmanager_config("http://recv:1")
    routes = {r["matchers"][0]: r["receiver"] for r in config["route"]["routes"]}
    assert routes == {'severity="critical"': "page", 'severity="warning"': "ticket"}
    urls = {r["name"]: r["webhook_configs"][0]["url"] for r in config["receivers"]}
    assert urls == {"page": "http://recv:1/webhook/page", "ticket": "http://recv:1/webhook/ticket"}


@pytest.mark.points(2)
def test_committed_deploy_files_match_the_code() -> None:
    result = CliRunner().invoke(cli, ["render", "--out", str(ROOT / "deploy"), "--check"])
    assert result.exit_code == 0, result.output


@pytest.mark.points(1)
def test_render_check_detects_stale_files(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["render", "--out", str(tmp_path)]).exit_code == 0
    (tmp_path / "prometheus" / "alerting_rules.yml").write_text("groups: []\n")
    result = runner.invoke(cli, ["render", "--out", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert "alerting_rules.yml" in result.output


def _overlaps(a: dict[str, int], b: dict[str, int]) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


@pytest.mark.points(3)
def test_dashboard_structure(tmp_path: Path) -> None:
    board = dashboards.overview_dashboard()
    panels = board["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    assert board["uid"] and board["schemaVersion"] >= 36
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in ("latency", "throughput", "error", "drift", "accuracy", "null",
                  "value per prediction", "outcome rate"):
        assert topic in titles
    for i, a in enumerate(panels):
        pos = a["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0
        for b in panels[i + 1:]:
            assert not _overlaps(pos, b["gridPos"]), (a["title"], b["title"])
    variables = {v["name"] for v in board["templating"]["list"]}
    known = produced_metric_names(tmp_path)
    datasource = dashboards.datasource_provisioning("http://p:9090")["datasources"][0]
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == datasource["uid"]
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))
        for target in panel["targets"]:
            used = set(re.findall(r"\$(\w+)", target["expr"]))
            assert used <= variables, target["expr"]
            assert referenced_metrics(target["expr"]) <= known, target["expr"]
            assert target["expr"].count("(") == target["expr"].count(")")


@pytest.mark.points(1)
def test_provisioning_points_at_the_dashboard_folder() -> None:
    provider = dashboards.dashboard_provisioning("/dash")["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] == "/dash"
    files = __import__("modelmon.render", fromlist=["x"]).render_files()
    assert "grafana/dashboards/modelmon-overview.json" in files


@pytest.mark.parametrize("variable", ["model", "version"])
@pytest.mark.points(1)
def test_template_variables_query_label_values(variable: str) -> None:
    [var] = [v for v in dashboards.overview_dashboard()["templating"]["list"]
             if v["name"] == variable]
    assert var["query"]["query"].startswith("label_values(")
    assert var["multi"] is True


def _runbook_urls(deploy: Path) -> dict[str, str]:
    rendered = yaml.safe_load((deploy / "prometheus" / "alerting_rules.yml").read_text())
    return {r["alert"]: r["annotations"]["runbook_url"] for r in rendered["groups"][0]["rules"]}


@pytest.mark.points(2)
def test_runbook_urls_come_from_the_base_url_setting(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    committed = _runbook_urls(ROOT / "deploy")
    assert all(url.startswith(("https://", "http://")) for url in committed.values()), committed
    monkeypatch.setenv("MODELMON_RUNBOOK_BASE_URL", "https://wiki.example.org/ml/runbooks/")
    result = CliRunner().invoke(cli, ["render", "--out", str(tmp_path / "ok")])
    assert result.exit_code == 0, result.output
    urls = _runbook_urls(tmp_path / "ok")
    assert urls and all(url == f"https://wiki.example.org/ml/runbooks#{alert.lower()}"
                        for alert, url in urls.items()), urls
    # a relative path is not a URL: one-line config error, nothing written
    monkeypatch.setenv("MODELMON_RUNBOOK_BASE_URL", "docs/runbooks.md")
    result = CliRunner().invoke(cli, ["render", "--out", str(tmp_path / "bad")])
    assert result.exit_code == 3
    assert "runbook_base_url" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
