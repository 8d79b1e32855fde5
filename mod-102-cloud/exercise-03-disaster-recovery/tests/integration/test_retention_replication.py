"""Retention against a real repository, Object Lock, AWS Backup plan, cross-region copies."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from aiinfra_shared.procs import MotoServer

from drkit.adapters.awsbackup import apply_backup_plan
from drkit.errors import ConflictError
from drkit.replicator import replicate
from drkit.repository import wal_key
from drkit.restore_plan import RestoreTarget, plan_restore
from drkit.retention import RetentionPolicy, plan_retention
from tests.integration.conftest import Archived, store_on, unique

pytestmark = pytest.mark.integration


@pytest.mark.points(6)
def test_retention_keeps_every_wal_segment_a_kept_backup_needs(
        archived_factory: Callable[..., Archived]) -> None:
    archived = archived_factory("async")
    for _ in range(3):
        archived.primary.psql("CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t VALUES (1)")
        archived.backup()
    repo = archived.repository
    catalog = repo.load_catalog()
    plan = plan_retention(catalog.backups, repo.wal_names(),
                          RetentionPolicy(full=2, daily=0, weekly=0, monthly=0))
    assert plan.delete == [catalog.backups[0].backup_id]
    for name in plan.wal_delete:
        repo.store.delete(wal_key(name))
    for backup_id in plan.delete:
        for obj in catalog.find(backup_id).objects:  # type: ignore[union-attr]
            repo.store.delete(obj.key)
    repo.save_catalog(catalog.without(set(plan.delete)))
    # Every kept backup still restores to the latest WAL with a complete chain.
    for entry in repo.load_catalog().backups:
        restore_plan = plan_restore(repo.load_catalog(), repo.archive(), RestoreTarget("latest"),
                                    backup_id=entry.backup_id)
        assert restore_plan.chain_complete, restore_plan.missing
    assert plan.wal_delete and all(n < catalog.backups[1].wal_start for n in plan.wal_delete)


@pytest.mark.points(4)
def test_dr_bucket_object_lock_refuses_deletes(moto_server: MotoServer) -> None:
    store = store_on(moto_server, unique("drkit-locked"), "us-west-2", lock_days=1)
    version = store.put("backups/x/base.tar.zst.age", b"sealed")
    assert store.object_lock() is not None
    assert store.object_lock()["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"  # type: ignore[index]
    with pytest.raises(ConflictError, match="Object Lock"):
        store.delete("backups/x/base.tar.zst.age", version)
    assert store.get("backups/x/base.tar.zst.age", version) == b"sealed"
    assert store.retain_until("backups/x/base.tar.zst.age") is not None


@pytest.mark.points(2)
@pytest.mark.hidden
def test_aws_backup_plan_and_locked_vault_are_stored(moto_server: MotoServer) -> None:
    info = apply_backup_plan(moto_server.endpoint_url, "us-west-2",
                             RetentionPolicy(daily=7, weekly=4, monthly=6, lock_days=7),
                             vault=unique("vault"))
    assert info["locked"] is True and info["min_retention_days"] == 7
    import boto3

    client = boto3.client("backup", endpoint_url=moto_server.endpoint_url, region_name="us-west-2",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    plan = client.get_backup_plan(BackupPlanId=info["plan_id"])["BackupPlan"]
    rules = {r["RuleName"]: r for r in plan["Rules"]}
    assert set(rules) == {"daily", "weekly", "monthly"}
    assert rules["monthly"]["Lifecycle"]["DeleteAfterDays"] == 186


@pytest.mark.points(6)
def test_artifacts_replicate_across_regions_with_checksums_and_lag(
        moto_server: MotoServer, region_moto: MotoServer) -> None:
    source = store_on(region_moto, unique("ml-artifacts"), versioned=True)
    dest = store_on(moto_server, unique("ml-artifacts-dr"), "us-west-2", versioned=True)
    source.put_replication_config(f"arn:aws:s3:::{dest.bucket}", "arn:aws:iam::123:role/crr")
    blobs = {f"models/m/{i}/model.bin": hashlib.sha256(bytes([i])).digest() * 100
             for i in range(3)}
    for key, blob in blobs.items():
        source.put(key, blob)
    assert not dest.exists("models/m/0/model.bin")  # moto copied nothing by itself
    first = replicate(source, dest, now=datetime.now(UTC))
    assert sorted(first.copied) == sorted(blobs) and first.pending_before == 3
    assert first.lag_before_s >= 0 and first.lag_after_s == 0
    for key, blob in blobs.items():
        assert dest.get(key) == blob
    source.put("models/m/0/model.bin", b"v2")  # a new version
    second = replicate(source, dest)
    assert second.copied == ["models/m/0/model.bin"]
    assert dest.get("models/m/0/model.bin") == b"v2"
    assert replicate(source, dest).copied == []  # idempotent


@pytest.mark.points(3)
@pytest.mark.hidden
def test_replication_refuses_a_source_that_does_not_match_its_checksum(
        moto_server: MotoServer, region_moto: MotoServer) -> None:
    from drkit.errors import IntegrityError

    source = store_on(region_moto, unique("ml-artifacts"), versioned=True)
    dest = store_on(moto_server, unique("ml-artifacts-dr"), "us-west-2", versioned=True)
    source.client.put_object(Bucket=source.bucket, Key="bad.bin", Body=b"actual",
                             Metadata={"sha256": hashlib.sha256(b"claimed").hexdigest()})
    with pytest.raises(IntegrityError, match="does not match"):
        replicate(source, dest)
    assert not dest.exists("bad.bin")
