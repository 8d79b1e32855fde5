"""Session fixtures: one simulated log, one monitored home (CLI run in process), servers.

Evidently takes 8-10 s to import, so every CLI call runs in process (click's CliRunner over
the real entry point) and the expensive run happens once per session; tests that change
state copy the home first.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from driftwatch.cli import cli

END = pd.Timestamp("2026-05-06", tz="UTC")  # the simulated log covers 2026-05-01 .. 05-05
AS_OF = END + pd.Timedelta(hours=12)
# d1-d2 quiet, d3 covariate drift (income and age by default), d4-d5 concept drift
SIMULATE = ["simulate", "--days", "5", "--rows-per-day", "600", "--drift", "3:covariate:0.9",
            "--drift", "4:concept", "--label-delay-hours", "12", "--end", str(END.date())]
BASE_ENV = {"DRIFTWATCH_WINDOWS__GRACE_HOURS": "24", "DRIFTWATCH_DRIFT__MMD_PERMUTATIONS": "100",
            "DRIFTWATCH_MIN_LABELS": "50"}


@dataclass
class Cli:
    """`invoke(*args)` runs the real CLI in process with DRIFTWATCH_HOME=home."""

    home: Path
    env: dict[str, str]

    def invoke(self, *args: str, **env: str) -> Result:
        merged = {"DRIFTWATCH_HOME": str(self.home), **BASE_ENV, **self.env, **env}
        return CliRunner().invoke(cli, list(args), env=merged, catch_exceptions=False)


@pytest.fixture(scope="session")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("week")
    result = CliRunner().invoke(cli, [*SIMULATE, "--out", str(data)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return data


@pytest.fixture(scope="session")
def reference_home(week: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("reference-home")
    result = Cli(home, {}).invoke("reference", "build", "--training",
                                  str(week / "training.parquet"), "--contract",
                                  str(week / "contract.yaml"))
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture(scope="session")
def monitored_home(week: Path, reference_home: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`driftwatch run` over the whole week, Evidently and HTML included (once)."""
    home = tmp_path_factory.mktemp("monitored") / "home"
    shutil.copytree(reference_home, home)
    result = Cli(home, {}).invoke("run", "--predictions", str(week / "predictions.jsonl"),
                                  "--labels", str(week / "labels.jsonl"),
                                  "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def copy_home(tmp_path: Path) -> Callable[[Path], Cli]:
    def make(source: Path, **env: str) -> Cli:
        home = tmp_path / "home"
        shutil.copytree(source, home)
        return Cli(home, dict(env))

    return make


@pytest.fixture(scope="session")
def airflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Airflow 3.3.2 api-server (side venv, cached by the requirements' hash)."""
    from driftwatch.airflow_env import start_api_server

    server = start_api_server(tmp_path_factory.mktemp("airflow"), password="s3cret")
    yield server
    server.stop()
