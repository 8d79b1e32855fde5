"""The CLI's surface: help with examples, one-line errors with documented exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from disttrain import __version__
from disttrain.cli import cli as app
from tests.helpers import cli, one_line_error


@pytest.mark.points(1)
def test_help_lists_the_commands_with_examples() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("launch", "train", "verify", "scale", "comm-bench", "manifests"):
        assert command in result.output
    assert "disttrain launch --nproc 2 --kill-at-step 25" in result.output
    assert __version__ in CliRunner().invoke(app, ["--version"]).output


@pytest.mark.points(2)
def test_unknown_strategy_is_one_line_exit_3() -> None:
    result = cli("train", "--strategy", "horovod")
    assert result.returncode == 3
    assert "unknown strategy 'horovod'" in one_line_error(result)


@pytest.mark.points(1)
def test_ddp_without_torchrun_is_refused() -> None:
    result = CliRunner().invoke(app, ["train", "--strategy", "ddp"])
    assert result.exit_code == 3
    assert "disttrain launch --strategy ddp" in result.output


@pytest.mark.points(1)
def test_env_overrides_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("strategy: fsdp\nsteps: 5\n")
    monkeypatch.setenv("DISTTRAIN_RDZV_PORT", "31234")
    result = CliRunner().invoke(app, ["show-config", "--config", str(config)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["train"]["strategy"] == "fsdp" and shown["train"]["steps"] == 5
    assert shown["settings"]["rdzv_port"] == 31234


@pytest.mark.points(1)
def test_invalid_config_file_names_the_field(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("steps: -1\n")
    result = cli("train", "--config", str(config))
    assert result.returncode == 3
    assert "steps" in one_line_error(result)


@pytest.mark.points(1)
def test_single_process_training_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--strategy", "single", "--steps", "5",
                                      "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["world_size"] == 1 and report["steps_done"] == 5
    assert report["losses"][-1] < report["losses"][0]
    assert (tmp_path / "run.weights.pt").is_file()
