"""Retried writes are idempotent: an answer lost after the server acted creates nothing twice."""

from __future__ import annotations

from typing import Any

import pytest

from mltrack import training
from mltrack.adapters.mlflow_server import Tracker
from tests.integration.proxy import Request, proxy

pytestmark = pytest.mark.integration


@pytest.mark.points(6)
def test_lost_answers_to_register_and_log_batch_create_no_duplicates(
        settings: Any, stack: Any) -> None:
    lost: list[str] = []

    def lose_first_answer(request: Request) -> str | None:
        for endpoint in ("model-versions/create", "runs/log-batch"):
            if request.is_api("POST", endpoint) and endpoint not in lost:
                lost.append(endpoint)
                return "lose"  # the server acts on it; the client never hears back
        return None

    with proxy(stack.tracking_uri, hook=lose_first_answer) as via:
        tracker = Tracker(via, retries=2, backoff_s=0.05)
        result = training.train_sklearn(tracker, settings.experiment,
                                        training.SklearnParams(epochs=4),
                                        register_as=settings.model_name)
    assert sorted(lost) == ["model-versions/create", "runs/log-batch"]  # both were cut

    direct = Tracker(stack.tracking_uri, retries=1, backoff_s=0.1)
    versions = direct.versions(settings.model_name)
    assert [v.version for v in versions] == ["1"] and result.version == "1"
    assert versions[0].run_id == result.run_id
    curve = direct.client.get_metric_history(result.run_id, "val_loss")
    assert sorted(m.step for m in curve) == [0, 1, 2, 3]  # one value per epoch, no repeats
