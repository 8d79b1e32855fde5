"""Drift scenario end to end: traffic -> service -> logs -> exporter -> Prometheus -> alert
-> Alertmanager -> webhook receiver -> retraining request; the scorecard sees it too."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiinfra_shared.testing import prom
from click.testing import CliRunner

from modelmon import dashboards
from modelmon.cli import cli
from modelmon.traffic import TrafficConfig, run_traffic
from tests.integration.conftest import EXE, Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def firing(stack: Stack, name: str) -> list[dict[str, Any]]:
    return [a for a in stack.prometheus.alerts()
            if a["labels"]["alertname"] == name and a["state"] == "firing"]


@contextmanager
def sustained(config: TrafficConfig) -> Iterator[None]:
    """Keep traffic flowing in the background while the block waits on Prometheus.

    Rate-based series (request rate, error ratio over a 30 s window) fade once traffic stops,
    so a wait that outlasts the window on a slow machine would otherwise never see them.
    """
    stop = threading.Event()
    worker = threading.Thread(target=run_traffic, kwargs={"config": config, "stop": stop.is_set},
                              daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=30)


def scorecard_json(stack: Stack) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["scorecard", "churn", "--window", "1m", "--json",
                                      "--prometheus-url", stack.prometheus.url])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def grades(card: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["grade"] for c in card["checks"]}


@pytest.mark.points(10)
def test_drift_alert_reaches_the_webhook_and_scorecard_degrades(
        stack: Stack, wait_for: Callable[..., Any], tmp_path: Path) -> None:
    prometheus = stack.prometheus
    # --- phase 1: clean traffic; the exporter publishes low drift and a baseline-like accuracy
    clean = run_traffic(TrafficConfig(service_url=stack.service_url, rate=0, count=300,
                                      label_delay=0, seed=1))
    assert clean.ok == 300 and clean.labels_sent == 300
    with sustained(TrafficConfig(service_url=stack.service_url, rate=20, label_delay=0,
                                 seed=4)):
        wait_for(lambda: (
            prometheus.query('modelmon_window_labelled_predictions{model="churn"} >= 290')
            and prometheus.query("modelmon:requests:rate30s > 0")), timeout=30)
        psi = {s["metric"]["feature"]: float(s["value"][1])
               for s in prometheus.query('modelmon_feature_psi{model="churn"}')}
        assert set(psi) == {"f0", "f1", "f2", "f3", "f4"} and max(psi.values()) < 0.2
        before = scorecard_json(stack)
        assert grades(before)["drift"] == "green"
        assert grades(before)["availability"] == "green"
        assert not firing(stack, "ModelFeatureDrift")

    # --- phase 2: drift on f0/f1, noisy labels and injected errors
    drifted = run_traffic(TrafficConfig(service_url=stack.service_url, rate=0, count=700,
                                        drift=2.0, label_noise=0.45, label_delay=0, seed=2,
                                        error_rate=0.2))
    assert drifted.errors > 50  # injected 503s
    with sustained(TrafficConfig(service_url=stack.service_url, rate=20, drift=2.0,
                                 label_noise=0.45, label_delay=0, seed=3, error_rate=0.2)):
        def drift_on_f0_and_f1() -> list[dict[str, Any]]:
            alerts = firing(stack, "ModelFeatureDrift")  # one alert per feature, each in time
            return alerts if {a["labels"]["feature"] for a in alerts} >= {"f0", "f1"} else []

        alerts = wait_for(drift_on_f0_and_f1, timeout=60)
        assert all(a["labels"]["action"] == "retrain" for a in alerts)
        wait_for(lambda: firing(stack, "ModelAccuracyDrop") and
                 firing(stack, "ModelHighErrorRate"), timeout=60)

        # --- Alertmanager got them, routed by severity to the receiver's two channels
        wait_for(lambda: {"ModelFeatureDrift", "ModelAccuracyDrop"} <= {
            a["labels"]["alertname"] for a in stack.alertmanager.alerts()}, timeout=30)

        def received() -> dict[str, set[str]]:
            entries = httpx.get(f"{stack.receiver_url}/alerts", timeout=5).json()
            by_alert: dict[str, set[str]] = {}
            for entry in entries:
                if entry["status"] == "firing":
                    by_alert.setdefault(entry["labels"]["alertname"], set()).add(entry["channel"])
            return by_alert

        got = wait_for(lambda: (lambda r: r if {"ModelFeatureDrift", "ModelAccuracyDrop",
                                                "ModelHighErrorRate"} <= set(r) else None)(
            received()), timeout=45)
        assert got["ModelFeatureDrift"] == {"ticket"}  # warning
        assert got["ModelAccuracyDrop"] == {"page"}  # critical
        assert got["ModelHighErrorRate"] == {"page"}
        requests = httpx.get(f"{stack.receiver_url}/retraining-requests", timeout=5).json()
        assert len(requests) == 1
        assert (requests[0]["model"], requests[0]["version"], requests[0]["status"]) == \
            ("churn", "v1", "open")
        assert "ModelFeatureDrift" in requests[0]["reasons"] or \
            "ModelAccuracyDrop" in requests[0]["reasons"]

        # --- the scorecard (real console script) reflects the degradation
        html = tmp_path / "card.html"
        result = subprocess.run(
            [EXE, "scorecard", "churn", "--version", "v1", "--window", "1m", "--json",
             "--html", str(html), "--prometheus-url", prometheus.url, "--fail-on", "red"],
            capture_output=True, text=True, check=False)
        assert result.returncode == 1, result.stderr  # --fail-on red
        after = json.loads(result.stdout)
        assert after["overall"] == "red"
        assert grades(after)["drift"] == "red"
        assert grades(after)["accuracy"] == "red"
        assert grades(after)["availability"] == "red"
        drift = next(c for c in after["checks"] if c["name"] == "drift")
        assert drift["value"] > 0.2 and "f0" in drift["detail"]
        assert "Scorecard: churn v1" in html.read_text()


    # --- every dashboard query is valid PromQL and returns data on this stack
    prom.assert_panels_return_data(prometheus.url, dashboards.overview_dashboard(),
                                   variables={"model": "churn", "version": "v1"})

    # --- malformed log lines are counted, the exporter keeps running
    with (stack.data / "predictions.jsonl").open("a") as handle:
        handle.write("this is not json\n{\"id\": 1}\n")
    wait_for(lambda: prometheus.query(
        'modelmon_exporter_malformed_lines_total{log="predictions"} >= 2'), timeout=30)
    assert prometheus.query('up{job="modelmon-exporter"} == 1')
