"""Alertmanager routing and inhibition, with the real Alertmanager and the receiver app."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from aiinfra_shared.procs.ports import free_port, wait_until

from obsstack import rules
from obsstack.receiver import create_receiver_app

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[tuple[str, Any]]:
    app = create_receiver_app(None)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    assert wait_until(lambda: server.started, 20, interval=0.1)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True


def _alert(name: str, severity: str, slo: str) -> dict[str, Any]:
    return {"labels": {"alertname": name, "severity": severity, "slo": slo,
                       "slo_service": "ml-gateway"},
            "annotations": {"summary": f"{slo} {severity}"}}


@pytest.mark.points(6)
def test_a_page_inhibits_the_ticket_of_the_same_slo_only(
        receiver: tuple[str, Any], alertmanager_factory: Callable[..., Any]) -> None:
    url, app = receiver
    am = alertmanager_factory(rules.alertmanager_config(url, group_wait="1s",
                                                        group_interval="1s"))
    am.post_alerts([_alert("AvailabilitySLO", "page", "availability"),
                    _alert("AvailabilitySLO", "ticket", "availability"),
                    _alert("LatencySLO", "ticket", "latency")])

    def got() -> list[tuple[str, str]]:
        return sorted((n["receiver"], n["labels"]["slo"])
                      for n in app.state.alerts.notifications)

    deadline = time.monotonic() + 20
    while len(got()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.5)  # a notification the inhibition failed to stop would arrive by now
    assert got() == [("page", "availability"), ("ticket", "latency")]
    inhibited = httpx.get(f"{am.url}/api/v2/alerts", timeout=10).json()
    muted = [a for a in inhibited if a["status"]["inhibitedBy"]]
    assert [(a["labels"]["severity"], a["labels"]["slo"]) for a in muted] == [
        ("ticket", "availability")]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_receiver_rejects_what_is_not_a_webhook_payload(receiver: tuple[str, Any]) -> None:
    url, app = receiver
    assert httpx.post(f"{url}/webhook/page", content=b"nope", timeout=5).status_code == 400
    assert httpx.post(f"{url}/webhook/page", json={"x": 1}, timeout=5).status_code == 422
    assert app.state.alerts.notifications == []


@pytest.mark.points(2)
def test_file_sd_groups_label_each_role() -> None:
    groups = rules.file_sd_targets({"gateway": ["a:1", "a:2"], "model": ["b:1"]})
    assert groups == [{"targets": ["a:1", "a:2"], "labels": {"role": "gateway"}},
                      {"targets": ["b:1"], "labels": {"role": "model"}}]
    with pytest.raises(ValueError, match="unknown role"):
        rules.file_sd_targets({"cache": ["c:1"]})
