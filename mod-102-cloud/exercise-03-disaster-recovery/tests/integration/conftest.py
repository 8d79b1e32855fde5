"""Real components for the integration tests: PostgreSQL primaries and standbys (shared
`postgres_factory`), one moto server per region (the shared `moto_server` for us-east-1, a
second one through `service_process` for us-west-2, so it can be stopped), the
Pushgateway, promtool."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs import MotoServer, free_port, make_postgres_dir, start_postgres
from aiinfra_shared.procs.postgres import Postgres
from aiinfra_shared.testing.plugin import in_ci

from drkit.adapters.nodes import ManagedNode
from drkit.adapters.route53 import ServiceRecord
from drkit.adapters.s3 import ObjectStore, make_client
from drkit.archiver import wait_archived
from drkit.backup import take_backup
from drkit.catalog import BackupEntry
from drkit.drills import Stack
from drkit.envelope import generate_identity, parse_identity
from drkit.failover import Pointer
from drkit.replicator import replicate
from drkit.repository import Repository
from drkit.topology import primary_settings

pytestmark = pytest.mark.integration

_names = itertools.count(1)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (`make setup`)"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return path


def unique(prefix: str) -> str:
    """A bucket name no other test uses on the session's moto server."""
    return f"{prefix}-{next(_names)}"


@dataclass
class Keys:
    identity_text: str
    public: str

    @property
    def identity(self) -> Any:
        return parse_identity(self.identity_text)


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(*generate_identity())


def store_on(moto: MotoServer, bucket: str, region: str = "us-east-1", **ensure: Any
             ) -> ObjectStore:
    store = ObjectStore(make_client(moto.endpoint_url, region), bucket, f"{region}/{bucket}")
    store.ensure(**ensure)
    return store


@pytest.fixture
def region_moto(service_process: Callable[..., Any]) -> MotoServer:
    """The primary region's own moto server (us-east-1), started through `service_process`
    so a test can stop it (a region outage) without touching the session's server, which
    plays the DR region (us-west-2)."""
    binary = require_tool("moto_server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = service_process("moto-us-east-1", [binary, "-H", "127.0.0.1", "-p", str(port)],
                              ready_http=f"{url}/moto-api/data.json", timeout=60)
    return MotoServer(process=process, endpoint_url=url, region="us-east-1")


@dataclass
class Archived:
    """A primary archiving into a spool, with a repository bucket."""

    primary: Postgres
    spool: Path
    repository: Repository
    keys: Keys

    def backup(self) -> BackupEntry:
        entry = take_backup(self.primary.dsn, self.repository, [self.keys.public])
        assert wait_archived(self.spool, self.repository, [self.keys.public], entry.wal_stop)
        return entry


@pytest.fixture
def archived_factory(postgres_factory: Any, moto_server: MotoServer, keys: Keys
                     ) -> Callable[..., Archived]:
    def make(mode: str = "async") -> Archived:
        spool = postgres_factory.directory("drkit-spool-")
        primary = postgres_factory(settings=primary_settings(spool, mode), name="primary1")
        repository = Repository(store_on(moto_server, unique("drkit-backups"), versioned=True))
        return Archived(primary, spool, repository, keys)

    return make


@pytest.fixture(scope="module")
def shared_archived(tmp_path_factory: pytest.TempPathFactory, keys: Keys,
                    moto_server: MotoServer) -> Iterator[Archived]:
    """One archiving primary for a whole module of read-only restore tests."""
    spool = make_postgres_dir("drkit-spool-")
    primary = start_postgres(settings=primary_settings(spool, "async"), name="primary1")
    try:
        repository = Repository(store_on(moto_server, unique("drkit-shared"), versioned=True))
        yield Archived(primary, spool, repository, keys)
    finally:
        primary.stop()
        shutil.rmtree(spool, ignore_errors=True)


@pytest.fixture
def restore_root(postgres_factory: Any) -> Path:
    """A dir the server user can write, for restored data dirs."""
    return Path(postgres_factory.directory("drkit-restore-"))


@pytest.fixture
def stack_factory(postgres_factory: Any, moto_server: MotoServer, region_moto: MotoServer,
                  keys: Keys, restore_root: Path, tmp_path: Path) -> Callable[..., Stack]:
    """A full stack: primary + streaming standby, the primary region on `region_moto`, the
    DR region (Object Lock bucket) on the session moto server, pointer, Route53 record."""

    def make(mode: str = "sync", standby: bool = True) -> Stack:
        spool = postgres_factory.directory("drkit-spool-")
        primary = postgres_factory(settings=primary_settings(spool, mode if standby else
                                                             "async"), name="primary1")
        replica = postgres_factory.replica(primary, name="standby1") if standby else None
        store_a = store_on(region_moto, unique("drkit-backups"), versioned=True)
        store_b = store_on(moto_server, unique("drkit-backups-dr"), "us-west-2", lock_days=1)
        artifacts_b = store_on(moto_server, unique("ml-artifacts-dr"), "us-west-2",
                               versioned=True)
        record = ServiceRecord(region_moto.endpoint_url, "us-east-1", "drkit.internal",
                               "primary.db.drkit.internal")
        pointer = Pointer(tmp_path / "service.json", record)
        pointer.switch(ManagedNode(primary).endpoint, "initial")
        return Stack(primary=ManagedNode(primary),
                     standby=ManagedNode(replica) if replica is not None else None,
                     repository=Repository(store_a), spool=spool, recipients=[keys.public],
                     identity=keys.identity, pointer=pointer, restore_root=restore_root,
                     mode=mode, dr_repository=Repository(store_b), artifacts=artifacts_b,
                     region_outage=region_moto.process.stop,
                     replicate_backups=lambda: (replicate(store_a, store_b), None)[1])

    return make
