"""The console script: help with examples, one-line errors, documented exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiinfra_shared.procs.ports import free_port
from click.testing import CliRunner

from obsstack import __version__
from obsstack.cli import cli

EXE = str(Path(sys.executable).parent / "obsstack")
SPEC = Path(__file__).parents[2] / "deploy" / "slo" / "slos.yaml"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The console script as a process (what a user runs)."""
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **env}, timeout=60)


def _invoke(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command in process (faster; same error handling through AppGroup)."""
    result = CliRunner().invoke(cli, list(args))
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout,
                                       result.stderr)


@pytest.mark.points(1)
def test_version_and_help_with_examples() -> None:
    assert __version__ in CliRunner().invoke(cli, ["--version"]).output
    result = _run("--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "--log-level" in result.stdout
    for command in (["ship"], ["logs"], ["slo", "generate"], ["slo", "report"], ["serve"],
                    ["render"], ["stack", "up"]):
        out = CliRunner().invoke(cli, [*command, "--help"])
        assert out.exit_code == 0 and "Example" in out.output, command


@pytest.mark.points(2)
def test_slo_generate_writes_files_and_rejects_bad_specs(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["slo", "generate", str(SPEC), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "page 14.4x 1h/5m" in result.output
    assert (tmp_path / "tests" / "ml-gateway-availability.test.yml").exists()
    check = CliRunner().invoke(cli, ["slo", "generate", str(SPEC), "--out", str(tmp_path),
                                     "--check"])
    assert check.exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.read_text().replace("objective: 99.9", "objective: 100"))
    proc = _run("slo", "generate", str(bad), "--out", str(tmp_path / "x"))
    assert proc.returncode == 3
    assert "leaves no error budget" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.points(3)
@pytest.mark.hidden
def test_unreachable_servers_exit_5_with_one_line() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    for args in (["logs", "--trace-id", "a" * 32, "--elasticsearch-url", dead],
                 ["slo", "report", str(SPEC), "--prometheus-url", dead],
                 ["faults", dead, "--error-rate", "0.5"]):
        proc = _invoke(*args)
        assert proc.returncode == 5, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.points(2)
def test_usage_errors() -> None:
    proc = _invoke("logs", "--trace-id", "xyz", "--elasticsearch-url", "http://127.0.0.1:1")
    assert proc.returncode == 2 and "32 hex digits" in proc.stderr
    assert _invoke("logs").returncode == 2
    assert _invoke("serve", "cache", "--port", "1").returncode == 2


@pytest.mark.points(2)
def test_config_file_and_env_vars(tmp_path: Path) -> None:
    from obsstack.config import Settings

    config = tmp_path / "obsstack.yaml"
    config.write_text("index_prefix: from-file\nshipper: {batch_size: 7}\n")
    assert Settings.load(config).shipper.batch_size == 7
    os.environ["OBSSTACK_SHIPPER__BATCH_SIZE"] = "9"
    try:
        settings = Settings.load(config)
    finally:
        del os.environ["OBSSTACK_SHIPPER__BATCH_SIZE"]
    assert settings.shipper.batch_size == 9 and settings.index_prefix == "from-file"
    config.write_text("shipper: {batch_size: 0}\n")
    proc = _invoke("ship", "x.log", "--once", "--config", str(config))
    assert proc.returncode == 3 and "batch_size" in proc.stderr


@pytest.mark.points(1)
def test_lint_dashboards_command(tmp_path: Path) -> None:
    board = tmp_path / "b.json"
    board.write_text('{"uid": "x", "title": "x", "panels": [{"id": 1, "type": "timeseries"}]}')
    proc = _invoke("lint-dashboards", str(board))
    assert proc.returncode == 1
    assert "template-datasource-rule" in proc.stdout and "panel-units-rule" in proc.stdout


@pytest.mark.points(2)
def test_batch_job_errors(tmp_path: Path) -> None:
    proc = _invoke("batch", str(tmp_path / "missing.txt"))
    assert proc.returncode == 3 and "cannot read" in proc.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    assert _invoke("batch", str(empty)).returncode == 3
    ids = tmp_path / "ids.txt"
    ids.write_text("a\nb\n")
    os.environ["OBSSTACK_FEATURES_URL"] = f"http://127.0.0.1:{free_port()}"
    os.environ["OBSSTACK_LOG_DIR"] = str(tmp_path / "logs")
    try:
        proc = _invoke("batch", str(ids), "--out", str(tmp_path / "out.jsonl"))
    finally:
        del os.environ["OBSSTACK_FEATURES_URL"], os.environ["OBSSTACK_LOG_DIR"]
    assert proc.returncode == 5 and "features service" in proc.stderr
    rows = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(rows) == 2 and all("error" in r for r in rows)
