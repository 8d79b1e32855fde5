"""The instrumented service as a real process: cardinality under attack, fault injection."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiinfra_shared.procs.ports import free_port
from click.testing import CliRunner

from modelmon.cli import cli
from tests.integration.conftest import EXE

pytestmark = pytest.mark.integration


@pytest.fixture
def service_url(tmp_path: Path, service_process: Callable[..., Any]) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service_process("service", [EXE, "serve", "--port", str(port)],
                    env={"MODELMON_SERVICE__PREDICTION_LOG": str(tmp_path / "p.jsonl"),
                         "MODELMON_SERVICE__LABEL_LOG": str(tmp_path / "l.jsonl")},
                    ready_http=f"{url}/healthz")
    return url


def series(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{")]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_cardinality_attack_is_bounded(service_url: str) -> None:
    with httpx.Client(timeout=10) as client:
        client.post(f"{service_url}/models/churn/predict", json={"features": {"f0": 1}})
        before = len(client.get(f"{service_url}/metrics").text.splitlines())
        for _ in range(200):
            client.post(f"{service_url}/models/{uuid.uuid4().hex}/predict",
                        json={"features": {}})
        text = client.get(f"{service_url}/metrics").text
    models = {re.search(r'model="([^"]+)"', s).group(1)  # type: ignore[union-attr]
              for s in series(text, "modelmon_requests_total")}
    assert models == {"churn", "__other__"}
    # a handful of new series for __other__, not 200 x (buckets + counters)
    assert len(text.splitlines()) - before < 40
    assert 'modelmon_label_overflow_total{label="model"} 200.0' in text


@pytest.mark.points(2)
def test_inject_latency_and_errors_on_command(service_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["inject", "--service-url", service_url, "--latency-ms", "300",
                                 "--error-rate", "1"])
    assert result.exit_code == 0, result.output
    response = httpx.post(f"{service_url}/models/churn/predict", json={"features": {}},
                          timeout=10)
    assert response.status_code == 503
    text = httpx.get(f"{service_url}/metrics", timeout=10).text
    # the 300 ms injected sleep lands above the 0.25 s bucket
    slow = [s for s in series(text, "modelmon_request_latency_seconds_bucket")
            if 'le="0.25"' in s and "predict" in s]
    assert slow and slow[0].endswith(" 0.0")
    assert 'outcome="server_error"' in text
    result = runner.invoke(cli, ["traffic", "--service-url", service_url, "--count", "5",
                                 "--rate", "0", "--latency-ms", "0", "--error-rate", "0",
                                 "--label-delay", "0", "--json"])
    assert result.exit_code == 0, result.output
    assert '"ok": 5' in result.output
