"""The whole stack for the integration tests, once per session, through the shared fixtures:
the three services as processes of the `obsstack` console script (gateway with 2 workers,
so exemplars go through the multiprocess store), Prometheus with exemplar storage, file_sd
and the RED + SLO rules (12h period: 1m/5s page windows), Alertmanager with the routing and
inhibition under test, the Elasticsearch API, an OTLP receiver, the webhook receiver and the
shipper tailing the services' log files.

The OTLP receiver is started from `aiinfra_shared.procs.otlp.OtlpReceiver` (the launcher the
`otlp_receiver` fixture uses) because that fixture is function-scoped and the services
export to one endpoint for the whole session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiinfra_shared.procs.otlp import OtlpReceiver
from aiinfra_shared.procs.ports import free_port, wait_until

from obsstack import rules, slo
from obsstack.config import ShipperSettings
from obsstack.receiver import create_receiver_app
from obsstack.services import ROLES
from obsstack.ship import ElasticsearchSink, Shipper
from obsstack.stack import fast_spec, prometheus_setup, service_env, start_services

SPEC_PATH = Path(__file__).parents[2] / "deploy" / "slo" / "slos.yaml"
PREFIX = "it-logs"


@dataclass
class Stack:
    urls: dict[str, str]
    prometheus: Any
    alertmanager: Any
    elasticsearch: Any
    otlp: OtlpReceiver
    receiver_app: Any
    spec: slo.SloSpec
    work_dir: Path
    shipper: Shipper


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, elasticsearch: Any,
          prometheus_factory: Callable[..., Any],
          alertmanager_factory: Callable[..., Any]) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    otlp = OtlpReceiver().start()
    app = create_receiver_app(work / "alerts.json")
    receiver_port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=receiver_port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    assert wait_until(lambda: server.started, 20, interval=0.1)
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    am = alertmanager_factory(rules.alertmanager_config(receiver_url, group_wait="1s",
                                                        group_interval="2s"))
    ports = {role: free_port() for role in ROLES}
    processes = start_services(work, ports, service_env(ports, work / "logs", otlp.endpoint),
                               workers={"gateway": 2})
    spec = fast_spec(slo.load_spec(SPEC_PATH))
    config, rule_files = prometheus_setup(work, ports, spec, am.url.removeprefix("http://"))
    prom = prometheus_factory(config, rule_files,
                              extra_flags=["--enable-feature=exemplar-storage"])
    assert prom.wait_for_targets_up(timeout=30), prom.targets()
    stop = threading.Event()
    shipper = Shipper([work / "logs" / f"{r}.log" for r in ROLES],
                      ElasticsearchSink(elasticsearch.url), PREFIX,
                      ShipperSettings(state_dir=work / "shipper", flush_interval_s=0.2))
    thread = threading.Thread(target=shipper.run, args=(stop,), daemon=True)
    thread.start()
    urls = {"receiver": receiver_url, **{r: f"http://127.0.0.1:{p}" for r, p in ports.items()}}
    yield Stack(urls, prom, am, elasticsearch, otlp, app, spec, work, shipper)
    stop.set()
    thread.join(timeout=10)
    for process in processes:
        process.stop()
    server.should_exit = True
    otlp.stop()
