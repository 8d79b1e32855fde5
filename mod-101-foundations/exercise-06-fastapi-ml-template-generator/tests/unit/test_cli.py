"""The CLI through click's runner (and once through the installed console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlscaffold import __version__
from mlscaffold.cli import cli
from mlscaffold.templates import get_template


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.mark.points(1)
def test_version_through_click() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.points(1)
def test_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "mlscaffold"
    result = subprocess.run([str(exe), "list", "--json"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert {t["name"] for t in json.loads(result.stdout)} >= {"sklearn", "pytorch",
                                                              "llm-gateway"}
    help_text = subprocess.run([str(exe), "new", "--help"], capture_output=True, text=True,
                               check=False).stdout
    assert "Examples:" in help_text and "--set" in help_text


@pytest.mark.points(1)
def test_list_table() -> None:
    result = run("list")
    assert result.exit_code == 0
    assert "llm-gateway" in result.output and "1.0.0" in result.output


@pytest.mark.points(4)
def test_new_non_interactive_writes_answers_file(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("port: 9001\nestimator: logistic_regression\n")
    result = run("new", "iris-api", "-t", "sklearn", "--answers", str(answers),
                 "--set", "max_replicas=7", "-o", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    project = tmp_path / "out" / "iris-api"
    assert json.loads(result.output)["path"] == str(project)
    stored = yaml.safe_load((project / ".mlscaffold-answers.yml").read_text())
    assert stored["_template"] == "sklearn" and stored["port"] == 9001
    assert stored["estimator"] == "logistic_regression" and stored["max_replicas"] == 7
    assert 'ESTIMATOR = "logistic_regression"' in (
        project / "src/iris_api/training.py").read_text()
    assert not list((tmp_path / "out").glob(".*mlscaffold-tmp"))  # staging dir renamed away


@pytest.mark.points(2)
def test_new_interactive_prompts(tmp_path: Path) -> None:
    # Accept every default (empty reply) except description and port; prompts follow the
    # template's question order.
    custom = {"description": "My API", "port": "9300"}
    replies = [custom.get(name, "") for name in get_template("sklearn").questions]
    result = run("new", "prompted", "-t", "sklearn", "-o", str(tmp_path), "--interactive",
                 input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.output
    stored = yaml.safe_load((tmp_path / "prompted/.mlscaffold-answers.yml").read_text())
    assert stored["description"] == "My API"
    assert stored["port"] == 9300


@pytest.mark.points(1)
@pytest.mark.parametrize(("args", "code", "message"), [
    (["new", "Bad_Name"], 2, "invalid project name 'Bad_Name'"),
    (["new", "ok-name", "-t", "tensorflow"], 4, "unknown template 'tensorflow'"),
    (["new", "ok-name", "--set", "colour=red"], 3, "--set colour: unknown question"),
    (["new", "ok-name", "--set", "port=eighty"], 3, "port: Input should be a valid integer"),
    (["new", "ok-name", "--set", "min_replicas=4", "--set", "max_replicas=2"], 3,
     "max_replicas (2) must be >= min_replicas (4)"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str], code: int,
                                                  message: str) -> None:
    result = run(*args, "-o", str(tmp_path), "--no-interactive")
    assert result.exit_code == code, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.points(2)
def test_failed_uv_lock_writes_nothing_and_no_lock_skips_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSCAFFOLD_LOCK", "true")
    monkeypatch.setenv("UV_OFFLINE", "1")  # offline with an empty cache: uv lock must fail
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-cache"))
    out = tmp_path / "out"
    failed = run("new", "offline-svc", "-o", str(out), "--no-interactive")
    assert failed.exit_code == 5, failed.output
    assert "uv lock failed" in failed.output and "--no-lock" in failed.output
    assert len(failed.output.strip().splitlines()) == 1
    assert not out.exists() or list(out.iterdir()) == []  # no project, no staging leftovers
    skipped = run("new", "offline-svc", "-o", str(out), "--no-lock", "--no-interactive")
    assert skipped.exit_code == 0, skipped.output
    assert (out / "offline-svc" / "pyproject.toml").is_file()
    assert not (out / "offline-svc" / "uv.lock").exists()


@pytest.mark.points(2)
def test_target_not_empty_is_a_conflict(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result = run("new", "taken", "-o", str(tmp_path), "--no-interactive")
    assert result.exit_code == 6
    assert "already exists and is not empty" in result.output
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


@pytest.mark.hidden
@pytest.mark.points(2)
def test_empty_target_dir_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert run("new", "empty", "-o", str(tmp_path), "--no-interactive").exit_code == 0
    assert (tmp_path / "empty" / "Dockerfile").is_file()


@pytest.mark.hidden
@pytest.mark.points(1)
def test_bad_answers_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "a.yaml"
    bad.write_text("port: [unclosed\n")
    result = run("new", "x-svc", "--answers", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "invalid YAML" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.hidden
@pytest.mark.points(1)
def test_update_on_foreign_project(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not ours")
    result = run("update", str(tmp_path))
    assert result.exit_code == 3
    assert "was not generated by mlscaffold" in result.output
    missing = run("update", str(tmp_path / "nope"))
    assert missing.exit_code == 4


@pytest.mark.points(4)
def test_validate_generated_then_broken_project(tmp_path: Path) -> None:
    assert run("new", "svc", "-t", "pytorch", "-o", str(tmp_path), "--no-interactive",
               "--lock").exit_code == 0
    project = tmp_path / "svc"
    result = run("validate", str(project), "--static", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and len(report["checks"]) >= 12
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("USER 10001\n", ""))
    (project / "k8s/hpa.yaml").unlink()
    result = run("validate", str(project), "--static")
    assert result.exit_code == 1
    assert "dockerfile non-root user" in result.output and "required files" in result.output
