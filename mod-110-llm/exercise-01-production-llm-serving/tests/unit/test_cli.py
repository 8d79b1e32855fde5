import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmserve import __version__
from llmserve.cli import cli

# --help, --version and bad-input messages: they pass on a starter whose core is missing.
pytestmark = pytest.mark.points(1)
EXE = Path(sys.executable).parent / "llmserve"


def test_version_through_click() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_has_examples() -> None:
    for command in ([], ["serve"], ["bench"]):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0
        assert "Examples:" in result.output or "Example:" in result.output


def test_entry_point_runs() -> None:
    result = subprocess.run([str(EXE), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--log-level" in result.stdout


def test_unknown_model_is_one_line_exit_4(tmp_path: Path) -> None:
    result = subprocess.run([str(EXE), "serve", "--model", str(tmp_path / "missing")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines()[-1].startswith("error: model")
    assert "Traceback" not in result.stderr


def test_bad_config_is_exit_3(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("max_num_seqs: -1\n")
    result = CliRunner().invoke(cli, ["serve", "--config", str(config)])
    assert result.exit_code == 3
    assert "max_num_seqs" in result.output


def test_bench_bad_dataset_and_unreachable_server(tmp_path: Path) -> None:
    dataset = tmp_path / "p.jsonl"
    dataset.write_text('{"prompt": "ok"}\nnot json\n')
    result = CliRunner().invoke(cli, ["bench", "--dataset", str(dataset)])
    assert result.exit_code == 2
    assert "p.jsonl:2" in result.output
    down = CliRunner().invoke(cli, ["models", "--base-url", "http://127.0.0.1:9", "--json"])
    assert down.exit_code == 5
    assert "cannot reach" in down.output
    assert not json.dumps(down.output).startswith("Traceback")
