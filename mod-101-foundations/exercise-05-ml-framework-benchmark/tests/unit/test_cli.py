"""The CLI through click's CliRunner: read commands, bad input, compare's exit code."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlbench import __version__
from mlbench.cli import cli
from mlbench.results import save
from mlbench.schema import ResultsFile

Factory = Callable[..., ResultsFile]


@pytest.mark.points(1)
def test_version_through_click() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.points(1)
def test_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "mlbench"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--log-level" in result.stdout
    assert "mlbench compare" in result.stdout  # examples in --help


@pytest.mark.points(2)
def test_list_json_has_param_counts_and_frameworks() -> None:
    result = CliRunner().invoke(cli, ["list", "--size", "tiny", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {m["model"]: m["params"] for m in data["models"]} == {
        "cnn": 5194, "transformer": 15850, "lstm": 15050}
    assert set(data["frameworks"]) == {"torch", "tensorflow", "jax"}
    assert data["scenarios"] == ["single_stream", "offline", "server"]
    default = json.loads(CliRunner().invoke(cli, ["list", "--json"]).output)
    assert {m["model"]: m["params"] for m in default["models"]} == {
        "cnn": 11_176_842, "transformer": 5_738_506, "lstm": 3_613_194}


@pytest.mark.points(1)
def test_env_json_reports_installed_frameworks_without_importing_them() -> None:
    result = CliRunner().invoke(cli, ["env", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["host"]["logical_cores"] >= 1
    assert data["frameworks"]["torch"]["installed"] is True
    assert "tensorflow" not in sys.modules  # the parent never imports a framework


@pytest.mark.points(1)
@pytest.mark.parametrize(("args", "code", "message"), [
    (["run", "--frameworks", "mxnet"], 2, "unknown mxnet"),
    (["run", "--models", "cnn,mlp"], 2, "unknown mlp"),
    (["run", "--batch-sizes", "0,8"], 2, "must be positive"),
    (["run", "--batch-sizes", "a,b"], 2, "comma-separated integers"),
    (["run", "--mode", "predict"], 2, "unknown predict"),
    (["run", "--cpu-affinity", "x"], 2, "core numbers"),
    (["run", "--suite", "nope.yaml"], 3, "suite file not found"),
])
def test_run_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str],
                                                       code: int, message: str) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.hidden
@pytest.mark.points(1)
def test_malformed_yaml_suite(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("frameworks: [torch\n")
    result = CliRunner().invoke(cli, ["run", "--suite", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert result.output.strip().count("\n") == 0
    assert "malformed YAML" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.points(2)
def test_compare_exit_codes(tmp_path: Path, results_factory: Factory) -> None:
    base, _ = save(results_factory(seed=0), tmp_path / "base")
    slow, _ = save(results_factory(scale=1.3, seed=1), tmp_path / "slow")
    same, _ = save(results_factory(scale=1.01, seed=1), tmp_path / "same")
    runner = CliRunner()
    bad = runner.invoke(cli, ["compare", str(base), str(slow)])
    assert bad.exit_code == 1
    assert "regression" in bad.output
    good = runner.invoke(cli, ["compare", str(base), str(same), "--json"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["regressions"] == 0
    # raising the effect threshold above 30% lets the slowdown through
    assert runner.invoke(cli, ["compare", str(base), str(slow), "--min-effect", "0.5"]
                         ).exit_code == 0


@pytest.mark.points(1)
def test_compare_and_report_reject_other_schema_versions(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text('{"schema_version": 0, "results": []}')
    runner = CliRunner()
    for args in (["compare", str(old), str(old)], ["report", str(old)]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 3
        assert "schema version 0 is not supported" in result.output
    missing = runner.invoke(cli, ["report", str(tmp_path / "none.json")])
    assert missing.exit_code == 4
    assert not (tmp_path / "report.html").exists()


@pytest.mark.points(2)
def test_report_command_writes_html_and_markdown(tmp_path: Path,
                                                 results_factory: Factory) -> None:
    jpath, _ = save(results_factory(), tmp_path)
    result = CliRunner().invoke(cli, ["report", str(jpath), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "Plotly.newPlot" in (tmp_path / "r.html").read_text()
    assert "Fastest framework" in (tmp_path / "summary.md").read_text()


@pytest.mark.hidden
@pytest.mark.points(2)
def test_config_file_and_env_var(tmp_path: Path, results_factory: Factory,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = save(results_factory(seed=0), tmp_path / "base")
    slow, _ = save(results_factory(scale=1.3, seed=1), tmp_path / "slow")
    cfg = tmp_path / "mlbench.yaml"
    cfg.write_text("min_effect: 0.5\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "compare", str(base), str(slow)]
                         ).exit_code == 0
    monkeypatch.setenv("MLBENCH_MIN_EFFECT", "0.1")  # env overrides the file
    assert runner.invoke(cli, ["--config", str(cfg), "compare", str(base), str(slow)]
                         ).exit_code == 1
    bad = runner.invoke(cli, ["--config", str(tmp_path / "none.yaml"), "list"])
    assert bad.exit_code == 3


@pytest.mark.points(1)
def test_python_dash_m_mlbench() -> None:
    result = subprocess.run([sys.executable, "-m", "mlbench", "--version"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0
    assert __version__ in result.stdout
