import httpx
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import RestException

from mltrack.adapters.mlflow_server import is_transient
from mltrack.adapters.retry import call_with_retries
from mltrack.data import load_dataset
from mltrack.metrics import classification_metrics, percentile, permutation_importance, to_labels


@pytest.mark.points(4)
def test_transient_errors_are_retried_with_exponential_backoff() -> None:
    calls, sleeps = [], []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.ConnectError("refused")
        return "ok"

    assert call_with_retries(flaky, retries=3, backoff_s=0.5, is_transient=is_transient,
                             sleep=sleeps.append) == "ok"
    assert sleeps == [0.5, 1.0]


@pytest.mark.points(4)
@pytest.mark.hidden
def test_retries_give_up_and_permanent_errors_are_not_retried() -> None:
    sleeps: list[float] = []

    def down() -> None:
        raise httpx.ConnectError("refused")

    with pytest.raises(httpx.ConnectError):
        call_with_retries(down, retries=2, backoff_s=0.1, is_transient=is_transient,
                          sleep=sleeps.append)
    assert len(sleeps) == 2

    def not_found() -> None:
        raise RestException({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "nope"})

    with pytest.raises(RestException):
        call_with_retries(not_found, retries=5, backoff_s=0.1, is_transient=is_transient,
                          sleep=sleeps.append)
    assert len(sleeps) == 2
    assert is_transient(RestException({"error_code": "TEMPORARILY_UNAVAILABLE",
                                       "message": "busy"}))


@pytest.mark.points(2)
@pytest.mark.hidden
def test_to_labels_handles_each_model_output() -> None:
    assert to_labels(np.array([[2.0, -1.0], [0.1, 0.3]])).tolist() == [0, 1]
    assert to_labels(np.array([0.2, 0.7])).tolist() == [0, 1]
    assert to_labels(pd.Series([1, 0])).tolist() == [1, 0]


@pytest.mark.points(3)
def test_metrics_and_percentile() -> None:
    metrics = classification_metrics([1, 1, 0, 0], [1, 0, 0, 0])
    assert metrics["accuracy"] == 0.75 and metrics["precision"] == 1.0
    assert metrics["recall"] == 0.5
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 95) == 5.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0


@pytest.mark.points(3)
def test_permutation_importance_finds_the_informative_column() -> None:
    frame = pd.DataFrame({"signal": [0, 1] * 50, "noise": [0.0] * 100})

    def predict(f: pd.DataFrame) -> np.ndarray:
        return f["signal"].to_numpy()

    importance = permutation_importance(predict, frame, frame["signal"], seed=1)
    assert importance["signal"] > 0.2 and importance["noise"] == 0.0


@pytest.mark.points(1)
def test_split_is_fixed_and_disjoint() -> None:
    a, b = load_dataset(), load_dataset()
    assert a.holdout.features.index.equals(b.holdout.features.index)
    sizes = [len(a.train.labels), len(a.validation.labels), len(a.holdout.labels)]
    assert sum(sizes) == 569 and sizes == [341, 114, 114]
    assert not set(a.train.features.index) & set(a.holdout.features.index)
    dropped = load_dataset(["mean radius"])
    assert "mean radius" not in dropped.feature_names and len(dropped.feature_names) == 29
    with pytest.raises(ValueError, match="unknown feature"):
        load_dataset(["nope"])
