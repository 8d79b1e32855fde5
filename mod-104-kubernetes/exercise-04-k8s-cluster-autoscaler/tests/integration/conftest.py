"""One Prometheus for the integration tests, started through the shared fixture with a day of
backfilled series (tests/integration/history.py) and the autoscale rules loaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from autoscale import monitoring
from tests.integration import history


@dataclass
class BackfilledPrometheus:
    url: str
    history: history.History
    server: Any


@pytest.fixture(scope="session")
def backfilled(prometheus_factory: Callable[..., Any]) -> BackfilledPrometheus:
    data = history.build()
    config = {"global": {"scrape_interval": "15s", "evaluation_interval": "1s"},
              "rule_files": ["recording_rules.yml"]}
    server = prometheus_factory(
        config, rule_files={"recording_rules.yml": yaml.safe_dump(monitoring.recording_rules())},
        backfill=data.text)
    return BackfilledPrometheus(server.url, data, server)
