"""A complete DR stack on one machine, from the shared runtime launchers: two object stores
(one moto server per region), a primary with WAL archiving, a streaming standby, buckets,
a Route53 record and the pointer file. `drkit demo`, the benchmarks and `drkit stack`
use it; the tests build the same thing from the pytest fixtures.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiinfra_shared.procs import (
    MotoServer,
    make_postgres_dir,
    start_moto_server,
    start_postgres,
    start_postgres_replica,
)

from drkit.adapters.nodes import ManagedNode
from drkit.adapters.route53 import ServiceRecord
from drkit.adapters.s3 import ObjectStore, make_client
from drkit.drills import Stack
from drkit.envelope import generate_identity, parse_identity
from drkit.failover import Pointer
from drkit.replicator import replicate
from drkit.repository import Repository
from drkit.topology import primary_settings


@dataclass
class LocalStack:
    stack: Stack
    work: Path
    moto_primary: MotoServer
    moto_dr: MotoServer
    handles: list[Any] = field(default_factory=list)
    dirs: list[Path] = field(default_factory=list)

    def close(self) -> None:
        for handle in reversed(self.handles):
            handle.stop()
        for moto in (self.moto_dr, self.moto_primary):
            moto.stop()
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


def build_local_stack(mode: str = "sync", lock_days: int = 1) -> LocalStack:
    work = Path(tempfile.mkdtemp(prefix="drkit-stack-"))
    moto_a = start_moto_server(work / "moto-us-east-1")
    moto_b = start_moto_server(work / "moto-us-west-2")
    moto_b.region = "us-west-2"
    spool = make_postgres_dir("drkit-spool-")
    restore_root = make_postgres_dir("drkit-restores-")
    local = LocalStack(stack=None, work=work, moto_primary=moto_a, moto_dr=moto_b,  # type: ignore[arg-type]
                       dirs=[spool, restore_root])
    try:
        primary = start_postgres(settings=primary_settings(spool, mode), name="primary1")
        local.handles.append(primary)
        standby = start_postgres_replica(primary, name="standby1")
        local.handles.append(standby)
        store_a = ObjectStore(make_client(moto_a.endpoint_url, "us-east-1"), "drkit-backups",
                              "us-east-1/drkit-backups")
        store_a.ensure(versioned=True)
        store_b = ObjectStore(make_client(moto_b.endpoint_url, "us-west-2"),
                              "drkit-backups-dr", "us-west-2/drkit-backups-dr")
        store_b.ensure(lock_days=lock_days)
        artifacts_a = ObjectStore(store_a.client, "ml-artifacts", "us-east-1/ml-artifacts")
        artifacts_a.ensure(versioned=True)
        artifacts_b = ObjectStore(store_b.client, "ml-artifacts-dr", "us-west-2/ml-artifacts-dr")
        artifacts_b.ensure(versioned=True)
        identity_text, public = generate_identity()
        (work / "identity.age").write_text(identity_text)
        record = ServiceRecord(moto_a.endpoint_url, "us-east-1", "drkit.internal",
                               "primary.db.drkit.internal")
        pointer = Pointer(work / "service.json", record)
        pointer.switch(ManagedNode(primary).endpoint, "initial")
        local.stack = Stack(
            primary=ManagedNode(primary), standby=ManagedNode(standby),
            repository=Repository(store_a), spool=spool, recipients=[public],
            identity=parse_identity(identity_text), pointer=pointer, restore_root=restore_root,
            mode=mode, dr_repository=Repository(store_b), artifacts=artifacts_b,
            region_outage=moto_a.stop,
            replicate_backups=lambda: (replicate(store_a, store_b), None)[1])
    except BaseException:
        local.close()
        raise
    return local
