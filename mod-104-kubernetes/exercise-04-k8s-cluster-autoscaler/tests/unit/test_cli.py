"""The CLI through its entry point: help with examples, one-line errors, exit codes, files
written whole or not at all."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from autoscale import __version__
from autoscale.cli import cli
from tests.helpers import EXAMPLES, EXE, policy_dict

POLICY = str(EXAMPLES / "policy.yaml")
CLUSTER = str(EXAMPLES / "cluster.yaml")


def invoke(*args: str) -> tuple[int, str]:
    """(exit code, stdout + stderr)."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def invoke_json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    """(exit code, parsed stdout); logs on stderr stay out of the JSON."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.points(1)
def test_entry_point_help_has_examples() -> None:
    result = subprocess.run([EXE, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "--log-level" in result.stdout
    for command in ("simulate", "render", "recommend", "controller", "forecaster"):
        code, output = invoke(command, "--help")
        assert code == 0 and "Example" in output, command
    assert invoke("--version")[1].strip().endswith(__version__)


@pytest.mark.points(2)
def test_simulate_json_and_winner_render(tmp_path: Path) -> None:
    trace = tmp_path / "ramp.csv"
    assert invoke("trace", "generate", "--pattern", "ramp", "--days", "0.25", "--out",
                  str(trace))[0] == 0
    code, body = invoke_json("simulate", "--trace", str(trace), "--policies", "hpa-cpu,keda",
                             "--cluster", CLUSTER, "--policy", POLICY, "--json",
                             "--render-winner", str(tmp_path / "out"), "--plot",
                             str(tmp_path / "runs.png"))
    assert [r["policy"] for r in body["results"]] == ["hpa-cpu", "keda"]
    assert body["winner"] in ("hpa-cpu@cluster-autoscaler", "keda@cluster-autoscaler")
    assert (tmp_path / "out" / "base" / "kustomization.yaml").is_file()
    assert (tmp_path / "runs.png").read_bytes()[:4] == b"\x89PNG"
    code, table = invoke("simulate", "--trace", str(trace), "--policies", "hpa-rps",
                         "--cluster", CLUSTER, "--policy", POLICY)
    assert code == 0 and "SLO-violation min" in table
    assert "winner: hpa-rps@cluster-autoscaler" in table


@pytest.mark.points(1)
@pytest.mark.parametrize(("content", "message"), [
    ("timestamp,requests_per_second\n0,1\n60,2\n600,3\n", "bad.csv:4: gap of 540 s"),
    ("timestamp,requests_per_second\n0,1\n60,-5\n", "bad.csv:3: requests_per_second must be"),
    ("timestamp,requests_per_second\n0,1\n60,x\n", "bad.csv:3: requests_per_second 'x' is not"),
])
def test_bad_traces_exit_3_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = subprocess.run([EXE, "simulate", "--trace", str(path), "--cluster", CLUSTER,
                             "--policy", POLICY], capture_output=True, text=True, check=False)
    assert result.returncode == 3
    assert result.stderr.startswith(f"error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.points(2)
def test_bad_policy_and_cluster_files(tmp_path: Path) -> None:
    raw = policy_dict()
    raw["replicas"] = {"min": 10, "max": 2}
    bad = tmp_path / "policy.yaml"
    bad.write_text(yaml.safe_dump(raw))
    code, output = invoke("render", "--policy", str(bad), "--out", str(tmp_path / "o"))
    assert code == 3 and "replicas.min 10 > replicas.max 2" in output
    assert not (tmp_path / "o").exists()
    raw = policy_dict()
    raw["hpa"]["metrics"][0]["type"] = "Memory"
    bad.write_text(yaml.safe_dump(raw))
    code, output = invoke("render", "--policy", str(bad), "--out", str(tmp_path / "o"))
    assert code == 3 and "unknown metric type 'Memory'" in output
    cluster = yaml.safe_load(Path(CLUSTER).read_text())
    cluster["nodeGroups"][0]["instanceType"] = "z9.huge"
    bad_cluster = tmp_path / "cluster.yaml"
    bad_cluster.write_text(yaml.safe_dump(cluster))
    code, output = invoke("simulate", "--pattern", "ramp", "--days", "0.2", "--cluster",
                          str(bad_cluster), "--policy", POLICY)
    assert code == 3 and "unknown instance type 'z9.huge'" in output
    code, output = invoke("simulate", "--pattern", "ramp", "--policies", "hpa-magic",
                          "--cluster", CLUSTER, "--policy", POLICY)
    assert code == 3 and "unknown policy 'hpa-magic'" in output
    code, _ = invoke("simulate", "--cluster", CLUSTER, "--policy", POLICY)
    assert code == 2


@pytest.mark.points(2)
def test_render_and_check(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    code, output = invoke("render", "--policy", POLICY, "--cluster", CLUSTER, "--out", str(out))
    assert code == 0 and "wrote 8 validated files" in output
    assert invoke("render", "--policy", POLICY, "--cluster", CLUSTER, "--out", str(out),
                  "--check")[0] == 0
    (out / "base" / "hpa.yaml").write_text("stale\n")
    code, output = invoke("render", "--policy", POLICY, "--cluster", CLUSTER, "--out",
                          str(out), "--check")
    assert code == 1 and "base/hpa.yaml" in output
    code, _ = invoke("render", "--policy", POLICY, "--scaler", "keda", "--out",
                     str(tmp_path / "keda"))
    assert code == 0 and (tmp_path / "keda" / "base" / "scaledobject.yaml").is_file()


@pytest.mark.points(2)
@pytest.mark.hidden
def test_unreachable_services_exit_5(tmp_path: Path, free_port: int) -> None:
    url = f"http://127.0.0.1:{free_port}"
    code, output = invoke("recommend", "--prometheus", url, "--deployment", "ml/web")
    assert code == 5 and output.startswith(f"error: Prometheus at {url} is unreachable")
    code, output = invoke("trace", "export", "--prometheus", url, "--query", "up", "--out",
                          str(tmp_path / "t.csv"))
    assert code == 5 and not (tmp_path / "t.csv").exists()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x"}))
    code, output = invoke("controller", "--policy", POLICY, "--kubeconfig", str(kubeconfig),
                          "--prometheus", url, "--once")
    assert code == 5 and "Kubernetes API unreachable" in output
    code, output = invoke("recommend", "--prometheus", url, "--deployment", "web")
    assert code == 2 and "NAMESPACE/NAME" in output


@pytest.mark.points(1)
@pytest.mark.hidden
def test_settings_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "autoscale.yaml"
    config.write_text("warmup_hours: 0\npolicy_file: " + POLICY + "\ncluster_file: "
                      + CLUSTER + "\n")
    trace = tmp_path / "t.csv"
    invoke("trace", "generate", "--pattern", "ramp", "--days", "0.1", "--out", str(trace))
    _, body = invoke_json("--config", str(config), "simulate", "--trace", str(trace),
                          "--policies", "hpa-rps", "--json")
    assert body["scored_hours"] == pytest.approx(2.4)
    monkeypatch.setenv("AUTOSCALE_WARMUP_HOURS", "1")
    _, body = invoke_json("--config", str(config), "simulate", "--trace", str(trace),
                          "--policies", "hpa-rps", "--json")
    assert body["scored_hours"] == pytest.approx(1.4)
    config.write_text("warmup_hourz: 1\n")
    code, output = invoke("--config", str(config), "simulate", "--pattern", "ramp")
    assert code == 3 and "warmup_hourz" in output


@pytest.mark.points(1)
def test_monitoring_writes_rules_and_dashboard(tmp_path: Path) -> None:
    code, _output = invoke("monitoring", "--out", str(tmp_path))
    assert code == 0
    rules = yaml.safe_load((tmp_path / "prometheus" / "alerting_rules.yml").read_text())
    assert [r["alert"] for r in rules["groups"][0]["rules"]] == [
        "AutoscalerAtMaxReplicas", "ForecastErrorHigh", "SLOErrorBudgetBurn"]
    assert json.loads((tmp_path / "grafana" / "autoscale-overview.json").read_text())["panels"]
