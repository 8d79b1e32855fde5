"""Production files: rendered from the code, schema-checked or parsed (nothing here runs a
cluster, a Collector, Fluent Bit, Tempo, Jaeger, Fluentd or Kibana)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from aiinfra_shared.testing import prom
from click.testing import CliRunner

from obsstack import render, slo
from obsstack.cli import cli
from obsstack.logsearch import DEFAULT_SAVED_QUERIES

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


@pytest.mark.points(3)
def test_committed_deploy_files_match_the_code() -> None:
    files = render.render_all(slo.load_spec(DEPLOY / "slo" / "slos.yaml"),
                              DEFAULT_SAVED_QUERIES)
    assert render.stale_files(files, DEPLOY) == []
    assert len(files) >= 25


@pytest.mark.points(2)
def test_render_check_reports_a_stale_file(tmp_path: Path) -> None:
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    target = tmp_path / "deploy" / "alertmanager" / "alertmanager.yml"
    target.write_text(target.read_text().replace("page", "pager"))
    result = CliRunner().invoke(cli, ["render", "--out", str(tmp_path / "deploy"), "--spec",
                                      str(DEPLOY / "slo" / "slos.yaml"), "--check"])
    assert result.exit_code == 1
    assert "alertmanager/alertmanager.yml" in result.output


@pytest.mark.points(4)
def test_core_kubernetes_objects_validate_against_the_schemas() -> None:
    docs = _docs("k8s/workloads.yaml")
    kinds = sorted({d["kind"] for d in docs})
    assert kinds == ["Deployment", "Namespace", "Service"]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30", strict=True)
    broken = json.loads(json.dumps(docs[1]))
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30", strict=True)


@pytest.mark.integration
@pytest.mark.points(3)
def test_prometheus_rule_groups_pass_promtool(tmp_path: Path) -> None:
    """No CRD schemas here: the PrometheusRule's groups go through promtool instead."""
    rules = _docs("k8s/prometheusrules.yaml")
    paths = []
    for doc in rules:
        assert doc["kind"] == "PrometheusRule"
        path = tmp_path / f"{doc['metadata']['name']}.yml"
        path.write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}))
        paths.append(str(path))
    prom.check_rules(*paths)
    # the same groups as the rule files Prometheus loads
    slo_groups = yaml.safe_load(Path(paths[1]).read_text())["groups"]
    on_disk = []
    for name in sorted((DEPLOY / "prometheus" / "slo").glob("*.rules.yml")):
        on_disk += yaml.safe_load(name.read_text())["groups"]
    assert sorted(g["name"] for g in slo_groups) == sorted(g["name"] for g in on_disk)


@pytest.mark.integration
@pytest.mark.points(3)
def test_prometheus_and_alertmanager_configs_pass_their_checkers(tmp_path: Path) -> None:
    shutil.copytree(DEPLOY / "prometheus", tmp_path / "prometheus")
    config = yaml.safe_load((tmp_path / "prometheus" / "prometheus.yml").read_text())
    config["scrape_configs"][0]["file_sd_configs"][0]["files"] = [
        str(tmp_path / "prometheus" / "targets" / "*.json")]
    (tmp_path / "prometheus" / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = prom.check_config("prometheus.yml", cwd=tmp_path / "prometheus")
    assert "SUCCESS" in result.stdout, result.stdout
    prom.check_alertmanager_config(DEPLOY / "alertmanager" / "alertmanager.yml")


@pytest.mark.points(4)
def test_collector_pipelines_use_only_defined_components() -> None:
    config = yaml.safe_load((DEPLOY / "k8s" / "otel-collector-config.yaml").read_text())
    defined = {kind: set(config.get(kind, {})) for kind in
               ("receivers", "processors", "exporters", "connectors")}
    for name, pipeline in config["service"]["pipelines"].items():
        for receiver in pipeline["receivers"]:
            assert receiver in defined["receivers"] | defined["connectors"], (name, receiver)
        for processor in pipeline.get("processors", []):
            assert processor in defined["processors"], (name, processor)
        for exporter in pipeline["exporters"]:
            assert exporter in defined["exporters"] | defined["connectors"], (name, exporter)
        if "memory_limiter" in pipeline.get("processors", []):
            assert pipeline["processors"][0] == "memory_limiter"  # must come first
    policies = {p["type"] for p in config["processors"]["tail_sampling"]["policies"]}
    assert {"status_code", "latency"} <= policies
    sampled = config["service"]["pipelines"]["traces/sampled"]["processors"]
    assert sampled.index("tail_sampling") < sampled.index("batch")


@pytest.mark.points(3)
def test_helm_values_and_service_monitors_parse() -> None:
    monitors = _docs("k8s/servicemonitors.yaml")
    assert sorted(m["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
                  for m in monitors) == ["features", "gateway", "model"]
    values = _docs("k8s/kube-prometheus-stack-values.yaml")[0]
    assert values["prometheus"]["prometheusSpec"]["enableFeatures"] == ["exemplar-storage"]
    assert values["alertmanager"]["config"]["inhibit_rules"]
    fluent = _docs("k8s/fluent-bit-values.yaml")[0]["config"]
    assert "Name tail" in fluent["inputs"] and "Logstash_Prefix obsstack-logs" in fluent["outputs"]
    tempo = _docs("k8s/tempo-values.yaml")[0]
    assert "otlp" in tempo["tempo"]["receivers"]


@pytest.mark.points(4)
def test_catalog_files_jaeger_fluentd_kibana_are_well_formed() -> None:
    jaeger = yaml.safe_load((DEPLOY / "catalog" / "jaeger-config.yaml").read_text())
    assert set(jaeger["service"]["extensions"]) <= set(jaeger["extensions"])
    assert "otlp" in jaeger["receivers"]
    assert jaeger["extensions"]["jaeger_query"]["storage"]["traces"] in \
        jaeger["extensions"]["jaeger_storage"]["backends"]
    conf = (DEPLOY / "catalog" / "fluentd.conf").read_text()
    stack = []
    for line in conf.splitlines():
        match = re.match(r"\s*<(/?)([\w@]+)", line)
        if match:
            if match.group(1):
                assert stack.pop() == match.group(2)
            else:
                stack.append(match.group(2))
    assert stack == []
    assert "@type tail" in conf and "logstash_prefix obsstack-logs" in conf
    objects = [json.loads(x) for x in
               (DEPLOY / "catalog" / "kibana-saved-objects.ndjson").read_text().splitlines()]
    ids = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        assert {"type", "id", "attributes", "references"} <= set(obj)
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"] for r in dashboard["references"]}
    assert {p["panelRefName"] for p in panels} == names
