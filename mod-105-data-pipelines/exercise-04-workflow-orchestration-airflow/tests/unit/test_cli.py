"""The CLI through click's runner and through the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlworkflows import __version__, data
from mlworkflows.cli import cli
from tests.conftest import CONFIGS

EXE = str(Path(sys.executable).parent / "mlworkflows")


@pytest.mark.points(1)
def test_version_and_help() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    helped = CliRunner().invoke(cli, ["--help"])
    assert "sla-report" in helped.output and "Examples" in helped.output


@pytest.mark.points(2)
def test_validate_good_bad_missing(tmp_path: Path) -> None:
    good = data.write_csv(data.make_batch(100), tmp_path / "good.csv")
    bad = data.write_csv(data.corrupt_batch(), tmp_path / "bad.csv")
    runner = CliRunner()
    ok = runner.invoke(cli, ["validate", str(good), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"] is True
    failed = runner.invoke(cli, ["validate", str(bad)])
    assert failed.exit_code == 1
    assert "mean_radius" in failed.output and "rows 3, 7, 11" in failed.output
    missing = runner.invoke(cli, ["validate", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 4 and "does not exist" in missing.output


@pytest.mark.points(2)
def test_configs_lists_and_rejects_invalid(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"MLWORKFLOWS_CONFIGS_DIR": str(CONFIGS)}
    listed = runner.invoke(cli, ["configs", "--json"], env=env)
    assert listed.exit_code == 0
    assert {c["name"] for c in json.loads(listed.output)} == {"cancer_logreg", "cancer_forest"}
    (tmp_path / "x.yaml").write_text("name: x1\nmodel_type: svm\ntrials: [{}]\n")
    bad = runner.invoke(cli, ["configs"], env={"MLWORKFLOWS_CONFIGS_DIR": str(tmp_path)})
    assert bad.exit_code == 3 and "x.yaml" in bad.output and "model_type" in bad.output


@pytest.mark.points(1)
@pytest.mark.hidden
def test_sla_report_unreachable_api_is_exit_5(free_port: int) -> None:
    result = CliRunner().invoke(cli, ["sla-report", "--api-url", f"http://127.0.0.1:{free_port}"],
                                env={"MLWORKFLOWS_API_PASSWORD": "x"})
    assert result.exit_code == 5
    assert "cannot reach the Airflow API" in result.output and "Traceback" not in result.output


@pytest.mark.points(1)
def test_sla_report_without_password_is_config_error() -> None:
    result = CliRunner().invoke(cli, ["sla-report"], env={"MLWORKFLOWS_API_PASSWORD": ""})
    assert result.exit_code == 3 and "MLWORKFLOWS_API_PASSWORD" in result.output


@pytest.mark.points(3)
def test_train_trial_console_script_writes_xcom(tmp_path: Path) -> None:
    """The command the KubernetesPodOperator pod runs, as a real subprocess."""
    from mlworkflows.training import prepare_features

    source = data.write_csv(data.make_batch(300), tmp_path / "data.csv")
    prepare_features(source, tmp_path / "run", 0.25, 42)
    xcom = tmp_path / "xcom" / "return.json"
    proc = subprocess.run(
        [EXE, "train-trial", "--config", str(CONFIGS / "cancer_logreg.yaml"), "--trial", "1",
         "--params", '{"C": 1.0, "max_iter": 300}', "--run-dir", str(tmp_path / "run"),
         "--xcom", "--xcom-path", str(xcom)],
        capture_output=True, text=True, check=False, env={**os.environ}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(xcom.read_text())
    assert result["trial"] == 1 and result["metrics"]["roc_auc"] > 0.9
    assert Path(result["model_path"]).is_file()


@pytest.mark.points(1)
@pytest.mark.hidden
def test_train_trial_bad_params_one_line_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [EXE, "train-trial", "--config", str(CONFIGS / "cancer_logreg.yaml"), "--trial", "0",
         "--params", "{not json", "--run-dir", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: --params is not valid JSON")
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.points(2)
def test_render_pod_and_unknown_model() -> None:
    runner = CliRunner()
    env = {"MLWORKFLOWS_CONFIGS_DIR": str(CONFIGS)}
    pod = runner.invoke(cli, ["render-pod", "cancer_forest", "--trial", "1"], env=env)
    assert pod.exit_code == 0
    manifest = json.loads(pod.stdout[pod.stdout.index("{"):])
    assert manifest["kind"] == "Pod" and "--trial" in manifest["spec"]["containers"][0]["args"]
    unknown = runner.invoke(cli, ["render-pod", "nope"], env=env)
    assert unknown.exit_code == 4 and "cancer_logreg" in unknown.output


@pytest.mark.points(1)
def test_sample_data_writes_csv(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(cli, ["sample-data", str(out), "--rows", "60", "--unlabelled"])
    assert result.exit_code == 0
    header = out.read_text().splitlines()[0]
    assert "mean_radius" in header and "target" not in header


@pytest.mark.points(3)
def test_pod_command_runs_and_workers_can_open_its_model(tmp_path: Path) -> None:
    """Run the rendered pod's command (image entry point + args) as a subprocess.

    The pod mounts the workspace volume at MLWORKFLOWS_HOME, the same setting the Airflow
    workers read, so the model path the pod hands back through XCom opens on a worker.
    """
    import joblib

    from mlworkflows.config import Settings
    from mlworkflows.training import prepare_features
    from mlworkflows.workspace import Workspace

    home = Settings.load().resolved_home()
    run_dir = Workspace(home).run_dir("mlw_train_cancer_logreg", "manual__pod-test")
    prepare_features(data.write_csv(data.make_batch(300), tmp_path / "data.csv"), run_dir,
                     0.25, 42)
    rendered = CliRunner().invoke(cli, ["render-pod", "cancer_logreg", "--trial", "1",
                                        "--run-dir", str(run_dir)])
    assert rendered.exit_code == 0, rendered.output
    manifest = json.loads(rendered.stdout[rendered.stdout.index("{"):])
    container = manifest["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert mounts["workspace"] == env["MLWORKFLOWS_HOME"] == str(home)  # one setting
    assert str(run_dir) in container["args"]
    # emulate the other two mounts: the configs ConfigMap and the XCom sidecar's volume
    xcom = tmp_path / "xcom" / "return.json"
    args = [a.replace(mounts["configs"], str(CONFIGS), 1) for a in container["args"]]
    proc = subprocess.run(
        [EXE, *container["command"][1:], *args, "--xcom-path", str(xcom)],
        capture_output=True, text=True, check=False, env={**os.environ, **env}, timeout=120)
    assert container["command"][0] == "mlworkflows"  # the image's entry point
    assert proc.returncode == 0, proc.stderr
    result = json.loads(xcom.read_text())
    model_path = Path(result["model_path"])
    assert model_path.is_relative_to(home) and model_path.is_file()  # opens on the worker
    assert hasattr(joblib.load(model_path), "predict_proba")
