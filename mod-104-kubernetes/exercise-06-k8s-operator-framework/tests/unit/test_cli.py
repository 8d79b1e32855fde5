"""The CLI through its entry point: help with examples, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from modelop import __version__
from modelop.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.points(1)
def test_help_and_version() -> None:
    code, out, _ = _run("--help")
    assert code == 0 and "Examples:" in out and "modelop demo" in out
    for command in ("run", "render", "validate", "children", "get", "demo"):
        code, out, _ = _run(command, "--help")
        assert code == 0 and "Examples:" in out, command
    assert __version__ in _run("--version")[1]
    exe = Path(sys.executable).parent / "modelop"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "--log-level" in result.stdout


@pytest.mark.points(3)
def test_validate_exit_codes_and_messages(tmp_path: Path) -> None:
    code, out, _ = _run("validate", str(EXAMPLES / "mlmodel.yaml"),
                        str(EXAMPLES / "mlmodel-canary.yaml"))
    assert code == 0 and "ok" in out
    code, _, err = _run("validate", str(EXAMPLES / "mlmodel-invalid.yaml"))
    assert code == 1
    assert err.strip().splitlines() == [
        "error: 1 of 1 MLModel(s) invalid: broken: spec.model.framework 'caffe' is unknown "
        "(one of sklearn, xgboost, pytorch, tensorflow, onnx, huggingface)"]
    code, _, err = _run("validate", str(tmp_path / "missing.yaml"))
    assert code == 4 and "no such file" in err and "Traceback" not in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: MLModel\n  spec: [\n")
    code, _, err = _run("validate", str(broken))
    assert code == 3 and "not valid YAML" in err and len(err.strip().splitlines()) == 1


@pytest.mark.points(2)
def test_children_lists_the_canary_split() -> None:
    code, out, _ = _run("children", str(EXAMPLES / "mlmodel-canary.yaml"), "--weight", "50",
                        "-o", "yaml")
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    deployments = [(d["metadata"]["name"], d["spec"]["replicas"]) for d in docs
                   if d["kind"] == "Deployment"]
    assert deployments == [("churn-blue", 2), ("churn-green", 2)]
    code, out, _ = _run("children", str(EXAMPLES / "mlmodel-gpu-hpa.yaml"))
    assert code == 0 and "HorizontalPodAutoscaler" in out and "replicas=HPA" in out


@pytest.mark.points(2)
def test_render_writes_and_check_detects_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    code, text, _ = _run("render", "--out", str(out))
    assert code == 0 and "wrote 8 files" in text
    assert (out / "base" / "crd.yaml").is_file()
    assert _run("render", "--out", str(out), "--check")[0] == 0
    (out / "base" / "rbac.yaml").write_text("# edited by hand\n")
    code, _, err = _run("render", "--out", str(out), "--check")
    assert code == 1 and "base/rbac.yaml" in err
    assert not list(out.rglob("*.tmp*"))


@pytest.mark.hidden
@pytest.mark.points(2)
def test_get_without_a_cluster_and_run_with_a_bad_config(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    exe = Path(sys.executable).parent / "modelop"
    result = subprocess.run([str(exe), "get"], capture_output=True, text=True, check=False,
                            timeout=60)
    assert result.returncode == 5
    assert result.stderr.startswith("error: cluster unreachable")
    assert "Traceback" not in result.stderr
    result = subprocess.run([str(exe), "run", "--config", str(tmp_path / "nope.yaml")],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 4 and "no such file" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("diff_before_write: maybe\n")
    result = subprocess.run([str(exe), "run", "--config", str(bad)], capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 3 and "diff_before_write" in result.stderr
