"""Base backups and point-in-time restores against a real PostgreSQL and moto."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs import free_port
from click.testing import CliRunner

from drkit.adapters import pgtools
from drkit.adapters import postgres as pg
from drkit.archiver import wait_archived
from drkit.cli import cli
from drkit.envelope import generate_identity, parse_identity, unseal
from drkit.errors import ConflictError
from drkit.lsn import Lsn
from drkit.repository import Repository
from drkit.restore import restore, verify
from drkit.restore_plan import RestoreTarget
from tests.integration.conftest import Archived

pytestmark = pytest.mark.integration

SECRET = "PLAINTEXT-MARKER-7f3a9"


@pytest.fixture(scope="module")
def history(shared_archived: Archived) -> dict[str, Any]:
    """Markers in four phases around one backup, a named point, a time and an LSN."""
    dsn = shared_archived.primary.dsn
    with pg.connect(dsn) as conn:
        conn.execute("CREATE TABLE markers (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO markers SELECT g, %s FROM generate_series(1, 50) g", (SECRET,))
    entry = shared_archived.backup()
    with pg.connect(dsn) as conn:
        conn.execute("INSERT INTO markers SELECT g, 'p2' FROM generate_series(51, 100) g")
        time.sleep(0.3)
        after2 = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        time.sleep(0.3)
        conn.execute("INSERT INTO markers SELECT g, 'p3' FROM generate_series(101, 150) g")
    lsn, at = pg.create_restore_point(dsn, "after-phase3")
    repo = shared_archived.repository
    repo.save_catalog(repo.load_catalog().with_restore_point("after-phase3", lsn, at))
    with pg.connect(dsn) as conn:
        conn.execute("INSERT INTO markers SELECT g, 'p4' FROM generate_series(151, 175) g")
        lsn4 = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO markers SELECT g, 'p5' FROM generate_series(176, 200) g")
    segment = pg.switch_wal(dsn)
    assert wait_archived(shared_archived.spool, repo, [shared_archived.keys.public], segment)
    return {"entry": entry, "after2": after2, "lsn4": lsn4}


def ids(dsn: str) -> set[int]:
    with pg.connect(dsn) as conn:
        return {int(r[0]) for r in conn.execute("SELECT id FROM markers").fetchall()}


def env_for(archived: Archived, **extra: str) -> dict[str, str]:
    store = archived.repository.store
    return {"DRKIT_PRIMARY__ENDPOINT_URL": store.client.meta.endpoint_url,
            "DRKIT_PRIMARY__BACKUP_BUCKET": store.bucket,
            "DRKIT_PRIMARY_DSN": archived.primary.dsn,
            "DRKIT_RECIPIENTS": json.dumps([archived.keys.public]), **extra}


def restored(archived: Archived, target: RestoreTarget, root: Path) -> Any:
    return restore(archived.repository, target, root / "data", free_port(),
                   archived.keys.identity, timeout=60)


@pytest.mark.points(4)
def test_backup_is_catalogued_with_lsn_range_and_checksums(
        shared_archived: Archived, history: dict[str, Any]) -> None:
    entry = history["entry"]
    catalog = shared_archived.repository.load_catalog()
    assert catalog.find(entry.backup_id) is not None
    assert entry.timeline == 1
    assert Lsn.parse(entry.start_lsn) <= Lsn.parse(entry.stop_lsn) <= entry.consistent_lsn
    assert entry.wal_start <= entry.wal_stop
    assert entry.recipients == [shared_archived.keys.public]
    obj = entry.objects[0]
    stored = shared_archived.repository.store.get(obj.key)
    assert hashlib.sha256(stored).hexdigest() == obj.sha256 and len(stored) == obj.size
    markers = next(t for t in entry.tables if t.table == "public.markers")
    assert markers.rows == 50 and markers.database == "postgres"


@pytest.mark.points(4)
def test_encrypted_objects_hold_no_plaintext_marker(
        shared_archived: Archived, history: dict[str, Any]) -> None:
    store = shared_archived.repository.store
    keys = [o.key for o in store.objects("")]
    assert any(k.startswith("wal/") for k in keys) and any(k.startswith("backups/") for k in keys)
    for key in keys:
        if key.endswith(".age"):
            assert SECRET.encode() not in store.get(key), key
    # ... and the marker IS in the backup once decrypted: the check above could fail.
    obj = history["entry"].objects[0]
    plain = unseal(store.get(obj.key), obj.sha256, shared_archived.keys.identity)
    assert SECRET.encode() in plain


@pytest.mark.points(6)
def test_pitr_to_time_brings_back_rows_before_and_none_after(
        shared_archived: Archived, history: dict[str, Any], restore_root: Path) -> None:
    when = history["after2"]
    result = restored(shared_archived, RestoreTarget("time", when.isoformat(), when),
                      restore_root)
    try:
        assert ids(result.server.dsn) == set(range(1, 101))
    finally:
        result.server.stop()


@pytest.mark.points(4)
def test_pitr_to_named_restore_point(shared_archived: Archived, history: dict[str, Any],
                                     restore_root: Path) -> None:
    result = restored(shared_archived, RestoreTarget("name", "after-phase3"), restore_root)
    try:
        assert ids(result.server.dsn) == set(range(1, 151))
    finally:
        result.server.stop()


@pytest.mark.points(3)
@pytest.mark.hidden
def test_pitr_to_lsn(shared_archived: Archived, history: dict[str, Any],
                     restore_root: Path) -> None:
    result = restored(shared_archived, RestoreTarget("lsn", history["lsn4"]), restore_root)
    try:
        assert ids(result.server.dsn) == set(range(1, 176))
    finally:
        result.server.stop()


@pytest.mark.points(5)
def test_restore_to_backup_point_matches_recorded_checksums(
        shared_archived: Archived, history: dict[str, Any], restore_root: Path) -> None:
    result = restored(shared_archived, RestoreTarget("backup"), restore_root)
    try:
        report = verify(result.server, result.plan.backup, None)
        assert report["ok"], report["problems"]
        assert report["amcheck"] == "ok"
        assert any(t["table"] == "public.markers" and t["ok"] for t in report["tables"])
        # A changed row must show up as a checksum mismatch.
        with pg.connect(result.server.dsn) as conn:
            conn.execute("UPDATE markers SET note = 'tampered' WHERE id = 7")
        report = verify(result.server, result.plan.backup, None)
        assert not report["ok"] and "public.markers" in report["problems"][0]
    finally:
        result.server.stop()


def _bucket_state(repository: Repository) -> list[tuple[str, str]]:
    return sorted((v.key, v.version_id) for v in repository.store.versions())


@pytest.mark.points(5)
def test_dry_run_reports_the_chain_and_changes_nothing(
        shared_archived: Archived, history: dict[str, Any], restore_root: Path) -> None:
    before = _bucket_state(shared_archived.repository)
    target = restore_root / "data"
    result = CliRunner().invoke(cli, ["restore", "--to", str(target), "--port", str(free_port()),
                                      "--target-name", "after-phase3", "--dry-run", "--json"],
                                env=env_for(shared_archived))
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["chain_complete"] and plan["missing_segments"] == []
    assert plan["backup_id"] == history["entry"].backup_id
    assert plan["first_segment"] == history["entry"].wal_start
    assert plan["disk_needed_bytes"] > history["entry"].data_size - 1
    assert not target.exists() and list(restore_root.iterdir()) == []
    assert _bucket_state(shared_archived.repository) == before


@pytest.mark.points(3)
def test_dry_run_lists_conflicts(shared_archived: Archived, history: dict[str, Any],
                                 restore_root: Path) -> None:
    target = restore_root / "data"
    target.mkdir()
    (target / "PG_VERSION").write_text("15\n")
    result = CliRunner().invoke(cli, ["restore", "--to", str(target), "--port",
                                      str(shared_archived.primary.port), "--dry-run", "--json"],
                                env=env_for(shared_archived))
    assert result.exit_code == 6
    conflicts = json.loads(result.output)["conflicts"]
    assert any("not empty" in c for c in conflicts) and any("port" in c for c in conflicts)


@pytest.mark.points(3)
def test_restore_into_non_empty_dir_is_refused_untouched(
        shared_archived: Archived, history: dict[str, Any], restore_root: Path) -> None:
    target = restore_root / "data"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(ConflictError, match="not empty"):
        restore(shared_archived.repository, RestoreTarget("latest"), target, free_port(),
                shared_archived.keys.identity)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


@pytest.mark.points(4)
def test_targets_outside_the_archive_are_one_line_errors(
        shared_archived: Archived, history: dict[str, Any], restore_root: Path) -> None:
    before = shared_archived.repository.load_catalog().to_json()
    port = str(free_port())
    early = (history["entry"].started_at.replace(year=2000)).isoformat()
    runner = CliRunner()
    for args, code, words in (
            (["--target-time", early], 4, "before the oldest backup"),
            (["--target-time", "2999-01-01T00:00:00+00:00"], 4, "after the last archived WAL"),
            (["--target-lsn", "FF/0"], 4, "after the last archived WAL"),
            (["--target-name", "no-such-point"], 4, "no restore point")):
        result = runner.invoke(cli, ["restore", "--to", str(restore_root / "x"), "--port", port,
                                     *args], env=env_for(shared_archived,
                                                        DRKIT_IDENTITY_FILE="/nonexistent"))
        assert result.exit_code == code, result.output
        line = result.output.strip()
        assert words in line and "\n" not in line and "Traceback" not in line
    assert not (restore_root / "x").exists()
    assert shared_archived.repository.load_catalog().to_json() == before


@pytest.mark.points(3)
@pytest.mark.hidden
def test_wrong_key_fails_and_writes_nothing(shared_archived: Archived,
                                            history: dict[str, Any], restore_root: Path,
                                            tmp_path: Path) -> None:
    other, _ = generate_identity()
    key_file = tmp_path / "other.age"
    key_file.write_text(other)
    result = CliRunner().invoke(cli, ["restore", "--to", str(restore_root / "data"), "--port",
                                      str(free_port()), "--identity", str(key_file)],
                                env=env_for(shared_archived))
    assert result.exit_code == 3, result.output
    assert "cannot decrypt" in result.output
    assert list(restore_root.iterdir()) == []
    garbage = tmp_path / "garbage.age"
    garbage.write_text("AGE-SECRET-KEY-NOTAKEY\n")
    result = CliRunner().invoke(cli, ["restore", "--to", str(restore_root / "data"), "--port",
                                      str(free_port()), "--identity", str(garbage)],
                                env=env_for(shared_archived))
    assert result.exit_code == 3 and "valid age key" in result.output
    assert parse_identity(other)  # the other key itself is valid


@pytest.mark.points(2)
def test_unreachable_bucket_is_exit_5(shared_archived: Archived, tmp_path: Path) -> None:
    env = env_for(shared_archived, DRKIT_PRIMARY__ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    result = CliRunner().invoke(cli, ["catalog", "--json"], env=env)
    assert result.exit_code == 5, result.output
    assert "unreachable" in result.output and "Traceback" not in result.output


@pytest.mark.points(3)
def test_backup_cli_writes_catalog_entry(shared_archived: Archived,
                                         history: dict[str, Any]) -> None:
    before = len(shared_archived.repository.load_catalog().backups)
    result = CliRunner().invoke(cli, ["backup", "--json"], env=env_for(
        shared_archived, DRKIT_SPOOL_DIR=str(shared_archived.spool)))
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)
    assert entry["restore_point"].startswith("drkit-")
    assert len(shared_archived.repository.load_catalog().backups) == before + 1
    bad = CliRunner().invoke(cli, ["backup"], env=env_for(
        shared_archived, DRKIT_RECIPIENTS='["age1notakey"]'))
    assert bad.exit_code == 3 and "invalid age recipient" in bad.output
    assert len(shared_archived.repository.load_catalog().backups) == before + 1



@pytest.mark.points(3)
def test_restore_cli_verifies_and_leaves_the_copy_running(
        shared_archived: Archived, history: dict[str, Any], restore_root: Path,
        tmp_path: Path) -> None:
    key_file = tmp_path / "key.age"
    key_file.write_text(shared_archived.keys.identity_text)
    target = restore_root / "data"
    port = free_port()
    result = CliRunner().invoke(cli, ["restore", "--to", str(target), "--port", str(port),
                                      "--backup-point", "--backup-id",
                                      history["entry"].backup_id, "--identity", str(key_file),
                                      "--json"],
                                env=env_for(shared_archived))
    try:
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert payload["verification"]["ok"] and payload["verification"]["amcheck"] == "ok"
        assert ids(f"postgresql://postgres@127.0.0.1:{port}/postgres") == set(range(1, 51))
    finally:
        pgtools.run([pgtools.tool("pg_ctl"), "-D", str(target), "-m", "fast", "-w", "stop"],
                    "pg_ctl stop", 60, server=True)
