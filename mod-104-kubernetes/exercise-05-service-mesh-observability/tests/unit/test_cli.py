"""The command line through its entry point: help, exit codes, one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aiinfra_shared.procs import free_port
from click.testing import CliRunner

from meshobs import __version__, pki
from meshobs.cli import cli

EXE = str(Path(sys.executable).parent / "meshobs")
ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str] | None = None) -> object:
    return CliRunner().invoke(cli, list(args), env=env)


def one_line_error(result: object, code: int) -> str:
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]
    lines = result.output.strip().splitlines()  # type: ignore[attr-defined]
    assert lines[-1].startswith("error: ")
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    return str(lines[-1])


@pytest.mark.points(1)
def test_entry_point_help_and_version() -> None:
    result = subprocess.run([EXE, "--help"], capture_output=True, text=True, check=False,
                            timeout=60)
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "meshobs stack up" in result.stdout
    assert __version__ in invoke("--version").output  # type: ignore[attr-defined]
    for command in (["validate"], ["render"], ["rollout", "run"], ["weights", "set"],
                    ["traces", "graph"], ["certs", "check"], ["stack", "up"]):
        helped = invoke(*command, "--help")
        assert helped.exit_code == 0  # type: ignore[attr-defined]
        assert "Example" in helped.output or "e.g." in helped.output  # type: ignore


@pytest.mark.points(2)
def test_validate_and_render(tmp_path: Path) -> None:
    ok = invoke("validate", "--mesh", str(ROOT / "examples/mesh.yaml"), "--json")
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
    assert json.loads(ok.output) == {"valid": True, "manifests": 31,  # type: ignore
                                     "problems": []}
    out = tmp_path / "out"
    assert invoke("render", "--out", str(out)).exit_code == 0  # type: ignore[attr-defined]
    assert invoke("render", "--out", str(out), "--check").exit_code == 0  # type: ignore
    (out / "overlays/istio/mesh.yaml").write_text("# edited\n")
    line = one_line_error(invoke("render", "--out", str(out), "--check"), 1)
    assert "overlays/istio/mesh.yaml" in line


@pytest.mark.points(2)
def test_invalid_mesh_is_exit_3_with_one_line(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "examples/mesh.yaml").read_text())
    data["routes"][0] = {"service": "modle", "weights": {"v1": 60, "v2": 60}}
    bad = tmp_path / "mesh.yaml"
    bad.write_text(yaml.safe_dump(data))
    line = one_line_error(invoke("validate", "--mesh", str(bad)), 3)
    assert "unknown service 'modle'" in line
    data["routes"][0] = {"service": "model", "weights": {"v1": 60, "v2": 60}}
    bad.write_text(yaml.safe_dump(data))
    assert "sum to 120, not 100" in one_line_error(invoke("validate", "--mesh", str(bad)), 3)


@pytest.mark.points(2)
def test_unreachable_prometheus_or_haproxy_is_exit_5_and_moves_nothing(tmp_path: Path
                                                                       ) -> None:
    canary = tmp_path / "canary.yaml"
    canary.write_text(yaml.safe_dump({"service": "model", "primary": "v1", "canary": "v2"}))
    port = free_port()
    status = tmp_path / "status"
    line = one_line_error(invoke("rollout", "run", str(canary), "--status-dir", str(status),
                                 "--prometheus-url", f"http://127.0.0.1:{port}"), 5)
    assert f"Prometheus at http://127.0.0.1:{port} unreachable" in line
    assert not status.exists()
    line = one_line_error(invoke("weights", "set", "model", "v1=50", "v2=50",
                                 "--haproxy-admin", f"127.0.0.1:{port}"), 5)
    assert f"HAProxy admin socket 127.0.0.1:{port} unreachable" in line
    line = one_line_error(invoke("traces", "graph", "--url", f"http://127.0.0.1:{port}"), 5)
    assert "trace collector" in line


@pytest.mark.points(2)
def test_certificate_commands(tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    assert "no mesh CA" in one_line_error(invoke("certs", "issue", "gateway", "--dir",
                                                 str(ca_dir)), 4)
    assert invoke("certs", "init", "--dir", str(ca_dir)).exit_code == 0  # type: ignore
    issued = invoke("certs", "issue", "gateway", "--dir", str(ca_dir), "--ttl", "600")
    assert issued.exit_code == 0  # type: ignore[attr-defined]
    assert "spiffe://cluster.local/ns/serving/sa/gateway" in issued.output  # type: ignore
    checked = invoke("certs", "check", str(ca_dir / "gateway/cert.pem"), "--dir", str(ca_dir))
    assert checked.exit_code == 0 and "valid, expires in" in checked.output  # type: ignore
    ca = pki.MeshCA(ca_dir)
    old = pki.issue_workload(ca.load(), "spiffe://cluster.local/ns/serving/sa/x",
                             ttl=dt.timedelta(minutes=5),
                             now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    expired = tmp_path / "expired.pem"
    expired.write_bytes(old.cert_pem)
    line = one_line_error(invoke("certs", "check", str(expired), "--dir", str(ca_dir)), 1)
    assert "certificate expired at" in line
    assert "no certificate at" in one_line_error(
        invoke("certs", "check", str(tmp_path / "none.pem"), "--dir", str(ca_dir)), 4)


@pytest.mark.points(2)
def test_config_file_and_environment(tmp_path: Path) -> None:
    port = free_port()
    canary = tmp_path / "canary.yaml"
    canary.write_text(yaml.safe_dump({"service": "model", "primary": "v1", "canary": "v2"}))
    settings = tmp_path / "meshobs.yaml"
    settings.write_text(yaml.safe_dump({"prometheus_url": "http://127.0.0.1:1"}))
    env = {"MESHOBS_PROMETHEUS_URL": f"http://127.0.0.1:{port}"}
    line = one_line_error(invoke("--config", str(settings), "rollout", "run", str(canary),
                                 env=env), 5)
    assert f"127.0.0.1:{port}" in line  # the environment wins over the file
    settings.write_text(yaml.safe_dump({"prometheus_urll": "x"}))
    line = one_line_error(invoke("--config", str(settings), "validate"), 3)
    assert "prometheus_urll" in line


@pytest.mark.points(1)
@pytest.mark.hidden
def test_other_bad_input(tmp_path: Path) -> None:
    assert "no rollout status for 'model'" in one_line_error(
        invoke("rollout", "status", "model", "--status-dir", str(tmp_path)), 4)
    canary = tmp_path / "canary.yaml"
    canary.write_text(yaml.safe_dump({"service": "ghost", "primary": "v1", "canary": "v2"}))
    assert "unknown service 'ghost'" in one_line_error(invoke("rollout", "run", str(canary)),
                                                       3)
    assert "host:port" in one_line_error(invoke("weights", "get", "model",
                                                "--haproxy-admin", "nowhere"), 2)
    assert "VERSION=PERCENT" in one_line_error(invoke("weights", "set", "model", "v1:100"), 2)
    assert "unknown service 'ghost'" in one_line_error(invoke("weights", "set", "ghost",
                                                              "v1=100"), 3)
