"""Bad input through the real CLI: one line, a distinct exit code, nothing half written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwatch.adapters.files import read_table, write_table
from tests.integration.conftest import AS_OF, Cli

pytestmark = pytest.mark.integration


def _drop_income(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["income"])


def _age_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(age=frame["age"].round().astype(int).astype(str) + " years")


def _nan_probability(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[5, "probability"] = np.nan
    return frame


CASES = [
    pytest.param(_drop_income, None, 11, "missing column(s) income", id="missing-column"),
    pytest.param(_age_as_text, None, 11, "must be numeric: age (object)", id="mistyped-column"),
    pytest.param(_nan_probability, None, 12, "1 row(s) have NaN or out-of-range probability",
                 id="nan-probability"),
    pytest.param(None, lambda labels: pd.concat([labels, labels.iloc[:2].assign(
        prediction_id=["ghost-1", "ghost-2"])]), 13, "2 label(s) for unknown prediction_id",
                 id="unknown-label-ids"),
]


@pytest.mark.points(1)  # per case
@pytest.mark.parametrize(("mutate_log", "mutate_labels", "code", "message"), CASES)
def test_bad_logs_fail_with_their_own_code_and_write_nothing(
        mutate_log: Callable[[pd.DataFrame], pd.DataFrame] | None,
        mutate_labels: Callable[[pd.DataFrame], pd.DataFrame] | None, code: int, message: str,
        week: Path, reference_home: Path, copy_home: Callable[..., Cli], tmp_path: Path) -> None:
    predictions, labels = read_table(week / "predictions.jsonl"), read_table(week / "labels.jsonl")
    if mutate_log:
        predictions = mutate_log(predictions)
    if mutate_labels:
        labels = mutate_labels(labels)
    write_table(predictions, tmp_path / "log.jsonl")
    write_table(labels, tmp_path / "labels.jsonl")
    cli = copy_home(reference_home, DRIFTWATCH_EVIDENTLY__ENABLED="false")
    result = cli.invoke("run", "--predictions", str(tmp_path / "log.jsonl"), "--labels",
                        str(tmp_path / "labels.jsonl"), "--as-of", AS_OF.isoformat())
    assert result.exit_code == code, result.output
    assert message in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not (cli.home / "results").exists()


@pytest.mark.points(2)
def test_a_too_small_window_is_insufficient_data(week: Path, reference_home: Path,
                                                 copy_home: Callable[..., Cli],
                                                 tmp_path: Path) -> None:
    log = read_table(week / "predictions.jsonl")
    write_table(log.iloc[:120], tmp_path / "small.parquet")  # parquet in, too
    cli = copy_home(reference_home, DRIFTWATCH_EVIDENTLY__ENABLED="false")
    result = cli.invoke("run", "--predictions", str(tmp_path / "small.parquet"), "--as-of",
                        AS_OF.isoformat())
    assert result.exit_code == 10
    assert "120 rows < min_rows 300: insufficient data" in result.output
    assert "no drift" not in result.output
    decide = cli.invoke("decide", "--dry-run")
    assert decide.exit_code == 10 and "insufficient data" in decide.output
    assert not (cli.home / "audit").exists()


@pytest.mark.points(1)
def test_missing_reference_and_bad_config_have_their_codes(week: Path, tmp_path: Path) -> None:
    cli = Cli(tmp_path / "empty", {})
    result = cli.invoke("run", "--predictions", str(week / "predictions.jsonl"))
    assert result.exit_code == 4 and "run: driftwatch reference build" in result.output
    config = tmp_path / "bad.yaml"
    config.write_text("drift:\n  numerical_method: magic\n")
    bad = cli.invoke("--config", str(config), "report")
    assert bad.exit_code == 3 and "drift.numerical_method" in bad.output
    missing = cli.invoke("reference", "build", "--training", str(tmp_path / "none.parquet"))
    assert missing.exit_code == 4 and "no such file" in missing.output


@pytest.mark.points(2)
def test_airflow_unreachable_is_exit_5_and_the_decision_is_not_triggered(
        monitored_home: Path, copy_home: Callable[..., Cli], free_port: int) -> None:
    cli = copy_home(monitored_home, DRIFTWATCH_AIRFLOW__URL=f"http://127.0.0.1:{free_port}",
                    DRIFTWATCH_AIRFLOW__RETRIES="1", DRIFTWATCH_AIRFLOW__BACKOFF_S="0")
    result = cli.invoke("decide")
    assert result.exit_code == 5
    assert "unreachable after 2 attempt(s)" in result.output
    log = (cli.home / "audit" / "decisions.jsonl").read_text().splitlines()
    assert len(log) == 1 and '"triggered": false' in log[0] and '"action": "retrain"' in log[0]
