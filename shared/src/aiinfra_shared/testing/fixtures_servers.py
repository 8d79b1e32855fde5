"""Fixtures for PostgreSQL clusters and replicas, an OTLP trace receiver, the Elasticsearch
API and an SMTP sink (registered by the last lines of `plugin.py`).

The launchers are in `aiinfra_shared.procs` (no pytest), so an exercise's own commands can
start the same components; these fixtures add teardown and skip-or-fail on a missing tool.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from aiinfra_shared.procs.otlp import OtlpReceiver
from aiinfra_shared.procs.postgres import (
    Postgres,
    SettingValue,
    make_postgres_dir,
    start_postgres,
    start_postgres_replica,
)
from aiinfra_shared.procs.services import ElasticsearchServer, start_elasticsearch
from aiinfra_shared.procs.smtp import SmtpServer
from aiinfra_shared.testing.plugin import _Started, require_or_skip

__all__ = [
    "PostgresFactory",
    "elasticsearch",
    "otlp_receiver",
    "postgres",
    "postgres_factory",
    "smtp_server",
]


class PostgresFactory:
    """Starts clusters and streaming replicas; `close()` stops them all, replicas first.

    `factory(settings={...}, name=...)` -> a primary; `factory.replica(primary, name=...)`
    -> a standby made with `pg_basebackup -R` on a physical slot; `factory.directory()` ->
    a temp dir the server user can write (for `archive_command` / `restore_command`).
    """

    def __init__(self) -> None:
        self._clusters: list[Postgres] = []
        self._dirs: list[Path] = []

    def __call__(self, settings: Mapping[str, SettingValue] | None = None, *,
                 name: str | None = None, timeout: float = 60.0) -> Postgres:
        cluster = require_or_skip(lambda: start_postgres(timeout, settings=settings, name=name))
        self._clusters.append(cluster)
        return cluster

    def replica(self, primary: Postgres, *, name: str | None = None, slot: str | bool = True,
                settings: Mapping[str, SettingValue] | None = None,
                timeout: float = 60.0) -> Postgres:
        cluster = start_postgres_replica(primary, name=name, slot=slot, settings=settings,
                                         timeout=timeout)
        self._clusters.append(cluster)
        return cluster

    def directory(self, prefix: str = "aiinfra-pg-shared-") -> Path:
        path = require_or_skip(lambda: make_postgres_dir(prefix))
        self._dirs.append(path)
        return path

    def close(self) -> None:
        for cluster in reversed(self._clusters):
            cluster.stop()
        for path in self._dirs:
            shutil.rmtree(path, ignore_errors=True)
        self._clusters.clear()
        self._dirs.clear()


@pytest.fixture
def postgres_factory() -> Iterator[PostgresFactory]:
    """Factory of PostgreSQL clusters and replicas, all removed at the end of the test.

    Function-scoped on purpose: disaster-recovery tests crash and promote clusters, and each
    cluster is half a dozen processes, so none outlives its test.
    """
    factory = PostgresFactory()
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A private PostgreSQL cluster for the session (`.dsn`, `.url(db, driver)`, `.psql()`)."""
    factory = PostgresFactory()
    yield factory()
    factory.close()


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP trace receiver (oteltap): `.endpoint`, `.env`, `.wait_for_spans(n)`.

    oteltap drops resource attributes: spans carry no `service.name`.
    """
    receiver = require_or_skip(lambda: OtlpReceiver().start())
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def elasticsearch(_aiinfra_started: _Started) -> ElasticsearchServer:
    """noida-db's Elasticsearch API (`.url`, `.client()`): no percentiles aggregation, no ILM.

    Session-scoped like the Kafka broker: give each test its own index names.
    """
    return _aiinfra_started.start("elasticsearch", start_elasticsearch)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP sink (aiosmtpd): `.host`, `.port`, `.messages`, `.wait_for(n)`."""
    server = require_or_skip(lambda: SmtpServer().start())
    yield server
    server.stop()
