"""Promotion audit records live on the tracking server: every client sees the same ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mltrack import training
from mltrack.cli import cli

pytestmark = pytest.mark.integration


@pytest.mark.points(5)
def test_audit_records_are_shared_through_the_tracking_server(
        settings: Any, tracker: Any, cli_env: dict[str, str], tmp_path: Path) -> None:
    name = settings.model_name
    training.train_sklearn(tracker, settings.experiment, training.SklearnParams(epochs=5),
                           register_as=name)
    runner = CliRunner()
    assert runner.invoke(cli, ["promote", name, "--candidate", "1", "--reason", "first"],
                         env=cli_env).exit_code == 0
    again = runner.invoke(cli, ["promote", name, "--candidate", "1"], env=cli_env)
    assert again.exit_code == 6  # a refused request is not a decision: no record

    elsewhere = {**cli_env, "MLTRACK_STATE_DIR": str(tmp_path / "another-machine"),
                 "MLTRACK_ACTOR": "someone-else"}
    shown = runner.invoke(cli, ["audit", "--model", name, "--json"], env=elsewhere)
    assert shown.exit_code == 0, shown.output
    records = json.loads(shown.stdout)
    assert [(r["event"], r["candidate"], r["by"], r["reason"]) for r in records] == [
        ("promotion.promoted", "1", "pytest", "first")]
    everything = runner.invoke(cli, ["audit", "--json"], env=elsewhere)
    assert [r["model"] for r in json.loads(everything.stdout)].count(name) == 1
    local = runner.invoke(cli, ["audit", "--local", "--json"], env=elsewhere)
    assert local.exit_code == 0 and json.loads(local.stdout) == []  # nothing written there

    missing = runner.invoke(cli, ["audit", "--model", "no-such-model"], env=elsewhere)
    assert missing.exit_code == 4 and "no-such-model" in missing.output
