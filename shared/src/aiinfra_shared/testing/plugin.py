"""pytest plugin (entry point `pytest11: aiinfra`): markers, real-service fixtures, grading hooks.

Markers
    integration  -- talks to a real server started on loopback
    slow         -- takes more than a few seconds
    gpu(count=N) -- needs CUDA (N devices, default 1); skipped automatically without them
    external     -- needs cloud credentials or a tool that cannot be installed here;
                    `@pytest.mark.external(reason="...", requires=["cosign"])` runs when every
                    program in `requires` is on PATH (or AIINFRA_RUN_EXTERNAL=1), else skips
    points(n)    -- grading weight (default 1)
    hidden       -- grading: result shown to the learner only after the due date

Grading (`aiinfra-grade`) counts a skip as a failure unless this plugin itself skipped the test
for a reason the grading machine declares: `gpu` without enough CUDA devices, or `external`.
Those tests are recorded as "sanctioned" skips; any other skip, and an xfail the reference
does not mark, scores 0.

A program that `make setup` installs but that is missing is a skip with an install hint on a
laptop, and an error when CI=true: CI must never go green by skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.ports import free_port as _free_port
from aiinfra_shared.procs.process import ServiceProcess
from aiinfra_shared.procs.services import (
    Alertmanager,
    KafkaBroker,
    MotoServer,
    OciRegistry,
    Prometheus,
    Pushgateway,
    start_alertmanager,
    start_kafka_broker,
    start_moto_server,
    start_oci_registry,
    start_prometheus,
    start_pushgateway,
)

T = TypeVar("T")

MARKERS = {
    "integration": "talks to a real server started on loopback",
    "slow": "takes more than a few seconds",
    "gpu(count=1)": "needs CUDA devices; skipped automatically without enough of them",
    "external(reason, requires)": "needs credentials or a tool not installable here",
    "points(n)": "grading weight of the test (default 1)",
    "hidden": "grading: visible to learners only after the due date",
}


def in_ci() -> bool:
    """True on CI, where a missing installable tool must fail rather than skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_or_skip(factory: Callable[[], T]) -> T:
    """Call `factory`; turn a missing program into a skip (laptop) or a failure (CI)."""
    try:
        return factory()
    except MissingBinaryError as exc:
        message = f"{exc}; `make setup` installs it"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)


def cuda_device_count() -> int:
    """How many CUDA devices can be used (torch if installed, else nvidia-smi)."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        import torch

        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    smi = shutil.which("nvidia-smi")
    if not smi:
        return 0
    listing = subprocess.run([smi, "-L"], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        return 0
    return sum(line.startswith("GPU ") for line in listing.stdout.splitlines())


def cuda_available() -> bool:
    """True when at least one CUDA device can be used."""
    return cuda_device_count() > 0


# --------------------------------------------------------------------------- configuration


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiinfra")
    group.addoption("--aiinfra-results", default=None,
                    help="write per-test outcomes with grading points to this JSON file")
    group.addoption("--aiinfra-collect", default=None,
                    help="write the collected tests with their points to this JSON file")


def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    config.stash[_WEIGHTS_KEY] = {}
    results_path = config.getoption("--aiinfra-results", None)
    if results_path:
        config.pluginmanager.register(GradingRecorder(config, Path(results_path)),
                                      "aiinfra-grading-recorder")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    weights = config.stash[_WEIGHTS_KEY]
    devices: int | None = None
    for item in items:
        points_marker = item.get_closest_marker("points")
        points = float(points_marker.args[0]) if points_marker and points_marker.args else 1.0
        info: dict[str, Any] = {"points": points,
                                "hidden": item.get_closest_marker("hidden") is not None,
                                "xfail": item.get_closest_marker("xfail") is not None}
        gpu = item.get_closest_marker("gpu")
        if gpu:
            if devices is None:
                devices = cuda_device_count()
            needed = int(gpu.kwargs.get("count", 1))
            if devices < needed:
                info["sanctioned_skip"] = f"needs {needed} CUDA GPU(s), found {devices}"
        external = item.get_closest_marker("external")
        if external and "sanctioned_skip" not in info:
            reason = _external_skip_reason(external)
            if reason:
                info["sanctioned_skip"] = reason
        if "sanctioned_skip" in info:
            item.add_marker(pytest.mark.skip(reason=info["sanctioned_skip"]))
        weights[item.nodeid] = info


def _external_skip_reason(marker: pytest.Mark) -> str | None:
    """Why an `external` test cannot run here, or None when everything it needs is present."""
    reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "external")
    requires: Sequence[str] = marker.kwargs.get("requires", ())
    if os.environ.get("AIINFRA_RUN_EXTERNAL") == "1":
        return None
    missing = [name for name in requires if shutil.which(name) is None]
    if not requires or missing:
        detail = f" (missing: {', '.join(missing)})" if missing else ""
        return f"external: {reason}{detail}"
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    path = session.config.getoption("--aiinfra-collect")
    if path:
        weights = session.config.stash[_WEIGHTS_KEY]
        tests = [{"nodeid": nodeid, **info} for nodeid, info in weights.items()]
        # The plugins that entry points loaded: the grader loads exactly these (and no
        # plugin a submission adds) by disabling autoload and naming each with -p.
        plugins = sorted({getattr(module, "__name__", str(module)) for module, _dist in
                          session.config.pluginmanager.list_plugin_distinfo()})
        Path(path).write_text(json.dumps({"tests": tests, "plugins": plugins}, indent=2))


# --------------------------------------------------------------------------- grading records

_WEIGHTS_KEY = pytest.StashKey[dict[str, dict[str, Any]]]()


class GradingRecorder:
    """Collects one outcome per test (setup, call and teardown folded together) for grading."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.results: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.results.setdefault(
            report.nodeid,
            {"nodeid": report.nodeid, "outcome": "passed", "duration": 0.0, "message": ""},
        )
        entry["duration"] += float(report.duration)
        if hasattr(report, "wasxfail"):
            entry["outcome"] = "xfailed" if report.skipped else "xpassed"
            entry["message"] = str(report.wasxfail) or "xfail"
        elif report.skipped and report.when in {"setup", "call"}:
            entry["outcome"] = "skipped"
            entry["message"] = _skip_reason(report)
        elif report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["message"] = (entry["message"] + "\n" + str(report.longreprtext)).strip()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.results[report.nodeid] = {
                "nodeid": report.nodeid, "outcome": "error", "duration": 0.0,
                "message": "collection error:\n" + str(report.longreprtext),
            }

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        weights = self.config.stash[_WEIGHTS_KEY]
        tests = [
            {**entry, **weights.get(nodeid, {"points": 1.0, "hidden": False})}
            for nodeid, entry in self.results.items()
        ]
        self.path.write_text(json.dumps({"exitstatus": int(exitstatus), "tests": tests},
                                        indent=2))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return _free_port()


@pytest.fixture
def service_process(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Factory: `service_process(name, command, ready_http=..., ready_tcp=..., env=...)`.

    Starts the command, waits until ready (failing with the log tail otherwise) and stops
    its whole process group at teardown.
    """
    started: list[ServiceProcess] = []

    def start(name: str, command: Sequence[str], **kwargs: Any) -> ServiceProcess:
        log_path = kwargs.pop("log_path", tmp_path / f"{name}.log")
        process = ServiceProcess(name, command, log_path, **kwargs)
        started.append(process)
        return process.start()

    yield start
    for process in reversed(started):
        process.stop()


class _Handle(Protocol):
    def stop(self) -> None: ...


H = TypeVar("H", bound=_Handle)


class _Started:
    """Servers a session fixture started, stopped together at teardown (newest first)."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.handles: list[_Handle] = []

    def start(self, name: str, starter: Callable[[Path], H]) -> H:
        work_dir = self.tmp_path_factory.mktemp(name)
        handle = require_or_skip(lambda: starter(work_dir))
        self.handles.append(handle)
        return handle

    def stop_all(self) -> None:
        for handle in reversed(self.handles):
            handle.stop()


@pytest.fixture(scope="session")
def _aiinfra_started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Started]:
    started = _Started(tmp_path_factory)
    yield started
    started.stop_all()


@pytest.fixture(scope="session")
def moto_server(_aiinfra_started: _Started) -> MotoServer:
    """moto in server mode (`.endpoint_url`, `.env`, `.client('s3')`, `.reset()`)."""
    return _aiinfra_started.start("moto", start_moto_server)


@pytest.fixture(scope="session")
def prometheus_factory(_aiinfra_started: _Started) -> Callable[..., Prometheus]:
    """Factory: `prometheus_factory(config, rule_files={name: yaml}, backfill=openmetrics,
    retention="100y", extra_flags=[...])` -> Prometheus (options as in `start_prometheus`)."""

    def start(config: Any, rule_files: dict[str, str] | None = None,
              **options: Any) -> Prometheus:
        return _aiinfra_started.start(
            "prometheus",
            lambda work_dir: start_prometheus(work_dir, config, rule_files, **options),
        )

    return start


@pytest.fixture(scope="session")
def alertmanager_factory(_aiinfra_started: _Started) -> Callable[..., Alertmanager]:
    """Factory: `alertmanager_factory(config=None)` -> Alertmanager."""

    def start(config: Any = None) -> Alertmanager:
        return _aiinfra_started.start(
            "alertmanager", lambda work_dir: start_alertmanager(work_dir, config)
        )

    return start


@pytest.fixture(scope="session")
def alertmanager(alertmanager_factory: Callable[..., Alertmanager]) -> Alertmanager:
    """Alertmanager with a no-op receiver."""
    return alertmanager_factory()


@pytest.fixture(scope="session")
def pushgateway(_aiinfra_started: _Started) -> Pushgateway:
    """The Prometheus Pushgateway (`.url`, `.metrics_text()`)."""
    return _aiinfra_started.start("pushgateway", start_pushgateway)


@pytest.fixture(scope="session")
def oci_registry_factory(_aiinfra_started: _Started) -> Callable[[], OciRegistry]:
    """Factory: each call starts one more registry (e.g. replication source and target)."""
    return lambda: _aiinfra_started.start("registry", start_oci_registry)


@pytest.fixture(scope="session")
def oci_registry(oci_registry_factory: Callable[[], OciRegistry]) -> OciRegistry:
    """One OCI registry for the session."""
    return oci_registry_factory()


@pytest.fixture(scope="session")
def kafka_broker(_aiinfra_started: _Started) -> KafkaBroker:
    """A Kafka-protocol broker (`.bootstrap_servers`)."""
    return _aiinfra_started.start("kafka", start_kafka_broker)


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """`wait_for(fn, timeout=10, interval=0.2)`: poll until fn() is truthy; return its value.

    Fails the test with the last value seen when time runs out: for asynchronous effects
    (an alert firing, a consumer catching up) instead of sleeps.
    """

    def poll(fn: Callable[[], Any], timeout: float = 10.0, interval: float = 0.2) -> Any:
        deadline = time.monotonic() + timeout
        value = fn()
        while not value and time.monotonic() < deadline:
            time.sleep(interval)
            value = fn()
        if not value:
            pytest.fail(f"condition not met within {timeout}s (last value: {value!r})")
        return value

    return poll


from aiinfra_shared.testing.fixtures_infra import *  # noqa: E402, F403  (registers the fixtures)
from aiinfra_shared.testing.fixtures_servers import *  # noqa: E402, F403  (registers the fixtures)
