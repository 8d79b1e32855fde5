"""`server down` keeps the data (database and artifacts) by default; `--purge` removes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiinfra_shared.procs.ports import free_port
from click.testing import CliRunner

from mltrack.adapters.mlflow_server import Tracker
from mltrack.cli import cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {"MLTRACK_STATE_DIR": str(tmp_path / "state"), "MLTRACK_SERVER__PORT": str(port),
           "MLTRACK_TRACKING_URI": f"http://127.0.0.1:{port}", "MLTRACK_RETRIES": "1",
           "MLTRACK_EXPERIMENT": "persist", "MLTRACK_MODEL_NAME": "persist-model"}
    yield env
    CliRunner().invoke(cli, ["server", "down", "--purge"], env=env)  # never leak a stack


@pytest.mark.points(8)
def test_up_down_up_keeps_runs_and_artifacts_purge_removes_them(
        stack_env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["server", "up"], env=stack_env).exit_code == 0
    trained = runner.invoke(cli, ["train", "sklearn", "--epochs", "2", "--json"], env=stack_env)
    assert trained.exit_code == 0, trained.output
    run_id = json.loads(trained.stdout)["run_id"]

    down = runner.invoke(cli, ["server", "down"], env=stack_env)
    assert down.exit_code == 0 and "data kept" in down.output, down.output
    again = runner.invoke(cli, ["server", "up"], env=stack_env)
    assert again.exit_code == 0, again.output

    tracker = Tracker(stack_env["MLTRACK_TRACKING_URI"], retries=1, backoff_s=0.1)
    assert tracker.client.get_run(run_id).data.params["epochs"] == "2"  # the run survived
    predicted = runner.invoke(cli, ["predict", "persist-model", "--alias", "challenger",
                                    "--rows", "2", "--json"], env=stack_env)
    assert predicted.exit_code == 0, predicted.output  # and so did its model artifacts
    assert json.loads(predicted.stdout)["version"] == "1"

    purged = runner.invoke(cli, ["server", "down", "--purge"], env=stack_env)
    assert purged.exit_code == 0 and "data removed" in purged.output, purged.output
    assert not (tmp_path / "state" / "data").exists()
