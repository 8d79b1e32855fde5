"""PostgreSQL clusters on loopback: settings, streaming replicas, stop modes, promotion.

Each cluster is a fresh `initdb` in a private temp dir with trust auth on 127.0.0.1. The
disaster-recovery exercises need more than "a database": clusters with `wal_level`,
`archive_command` or `synchronous_standby_names`, replicas made with `pg_basebackup -R` on a
physical replication slot, an immediate (crash-like) stop of the primary, promotion of the
standby, and the old primary started again. This module does those steps with the real
PostgreSQL tools so that what a test observes is what an operator would see.

PostgreSQL refuses to run as root. As root, every server-side command (initdb, postgres,
pg_ctl, pg_basebackup) runs as the `postgres` system user (created by the Debian package),
in temp dirs that user owns; clients (psql, psycopg) connect over TCP and need no such care.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess, ServiceStartError

LOOPBACK = "127.0.0.1"

SettingValue = str | int | float | bool
StopMode = Literal["smart", "fast", "immediate"]

# Written first into postgresql.conf, so a caller's settings override them. fsync=off is
# safe against a server crash (an immediate stop): only an OS crash loses data.
BASE_SETTINGS: dict[str, SettingValue] = {"fsync": "off"}

_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")


def _run_as_user() -> str | None:
    """The user server commands run as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServiceStartError(
            "running as root needs the 'postgres' user (apt-get install postgresql)"
        ) from exc
    return "postgres"


def _as_user(run_as: str | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", run_as, "--", *command] if run_as else command


def make_postgres_dir(prefix: str = "aiinfra-pg-") -> Path:
    """A fresh temp dir the server user owns: for data dirs and WAL archives.

    A test's own tmp dir (under /tmp/pytest-of-root, mode 0700) cannot be entered by the
    `postgres` user, so `archive_command`/`restore_command` targets must live in a dir like
    this one. The caller removes it (`shutil.rmtree`) when done.
    """
    run_as = _run_as_user()
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _conf_value(value: SettingValue) -> str:
    """Quote a value for postgresql.conf (every type may be quoted there)."""
    text = ("on" if value else "off") if isinstance(value, bool) else str(value)
    return "'" + text.replace("'", "''") + "'"


def _append_settings(data_dir: Path, settings: Mapping[str, SettingValue], header: str) -> None:
    """Append `settings` to postgresql.conf; later lines win, so these override earlier ones."""
    if not settings:
        return
    lines = [f"\n# {header}"]
    for key, value in settings.items():
        if not key.replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"invalid PostgreSQL setting name {key!r}")
        lines.append(f"{key} = {_conf_value(value)}")
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write("\n".join(lines) + "\n")


def _checked(command: list[str], what: str, timeout: float = 120.0) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            timeout=timeout)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise ServiceStartError(f"{what} failed: {detail}")
    return result.stdout


@dataclass
class Postgres:
    """A private PostgreSQL cluster (trust auth on loopback) with its lifecycle controls.

    `stop()` ends it for good and deletes its files (what fixtures call at teardown);
    `shutdown(mode)` / `start()` stop and start the server and keep its data, as an operator
    would with `pg_ctl stop -m fast|immediate` and `pg_ctl start`.
    """

    process: ServiceProcess
    host: str
    port: int
    user: str
    data_dir: Path
    bin_dir: Path
    run_as: str | None = None
    name: str = ""
    base_dir: Path = field(default_factory=Path)
    settings: dict[str, SettingValue] = field(default_factory=dict)
    primary: Postgres | None = None
    slot: str | None = None

    # ------------------------------------------------------------------ clients

    @property
    def dsn(self) -> str:
        """libpq URL of the default `postgres` database."""
        return self.url("postgres")

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        """URL for `database`; pass driver='postgresql+psycopg2' for SQLAlchemy/MLflow."""
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with psql and return its unaligned, tuples-only output."""
        result = subprocess.run(
            [str(self.bin_dir / "psql"), "-h", self.host, "-p", str(self.port), "-U", self.user,
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True, text=True, check=False, timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create database `name` (if absent) and return its libpq URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r} must be alphanumeric/underscore")
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def is_in_recovery(self) -> bool:
        """True while the cluster is a standby (`pg_is_in_recovery()`)."""
        return self.psql("SELECT pg_is_in_recovery()") == "t"

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self.process.is_running()

    def tool(self, program: str, *args: str, timeout: float = 300.0) -> str:
        """Run a server-side PostgreSQL program (pg_rewind, pg_controldata, pg_waldump,
        pg_basebackup...) from this cluster's bin dir as the server user; return stdout.

        As root that user is `postgres`, so any directory the program writes must be one
        it owns (`make_postgres_dir`). Raises ServiceStartError with stderr on failure.
        """
        command = [str(self.bin_dir / program), *args]
        return _checked(_as_user(self.run_as, command), program, timeout)

    def pg_ctl(self, *args: str, timeout: float = 120.0) -> str:
        """Run `pg_ctl -D <data dir> ARGS...` as the server user; raise on failure."""
        return self.tool("pg_ctl", "-D", str(self.data_dir), *args, timeout=timeout)

    def shutdown(self, mode: StopMode = "fast") -> None:
        """Stop the server and keep its data: `fast` checkpoints first, `immediate` does not
        (like a crash: the next start replays WAL)."""
        if self.running:
            self.pg_ctl("-m", mode, "-w", "-t", "60", "stop")
        self.process.stop()

    def start(self) -> Postgres:
        """Start the server again on the same port (after `shutdown`)."""
        if not self.running:
            self.process.start()
        return self

    def restart(self, mode: StopMode = "fast") -> Postgres:
        self.shutdown(mode)
        return self.start()

    def reload(self) -> None:
        """Re-read the configuration (after ALTER SYSTEM or editing postgresql.conf)."""
        self.psql("SELECT pg_reload_conf()")

    def promote(self, timeout: float = 60.0) -> None:
        """Promote a standby to primary and wait until it accepts writes."""
        self.pg_ctl("-w", "-t", str(int(timeout)), "promote", timeout=timeout + 10)

    def stop(self) -> None:
        """End the cluster for good and delete its files.

        An immediate stop: the files are deleted anyway, and a fast stop would wait for
        the checkpoint and for the archiver to retry a failing `archive_command`.
        """
        if self.running:
            subprocess.run(
                _as_user(self.run_as, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
                                       "-m", "immediate", "-w", "stop"]),
                capture_output=True, check=False, timeout=60,
            )
        self.process.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _pg_ready(bin_dir: Path, port: int) -> bool:
    # -U/-d: without them the probe logs "role root does not exist" into the server log
    result = subprocess.run([str(bin_dir / "pg_isready"), "-h", LOOPBACK, "-p", str(port),
                             "-U", "postgres", "-d", "postgres", "-t", "1"],
                            capture_output=True, check=False)
    return result.returncode == 0


def _launch(*, base: Path, data_dir: Path, bin_dir: Path, run_as: str | None, port: int,
            name: str, settings: dict[str, SettingValue], timeout: float,
            primary: Postgres | None = None, slot: str | None = None) -> Postgres:
    """Start the server on a prepared data dir. Per-instance options go on the command line
    (a replica copies postgresql.conf from its primary); everything else is in the conf."""
    process = ServiceProcess(
        f"postgres-{name}",
        _as_user(run_as, [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port),
                          "-c", f"listen_addresses={LOOPBACK}",
                          "-c", f"unix_socket_directories={base}",
                          "-c", f"cluster_name={name}"]),
        base / "postgres.log",
        ready_check=lambda: _pg_ready(bin_dir, port),
        timeout=timeout,
    )
    handle = Postgres(process=process, host=LOOPBACK, port=port, user="postgres",
                      data_dir=data_dir, bin_dir=bin_dir, run_as=run_as, name=name,
                      base_dir=base, settings=settings, primary=primary, slot=slot)
    try:
        process.start()
    except ServiceStartError:
        shutil.rmtree(base, ignore_errors=True)
        raise
    return handle


def _bin_dir() -> Path:
    initdb = Path(require_binary("initdb", "apt-get install postgresql (make setup)"))
    return initdb.resolve().parent


def start_postgres(
    timeout: float = 60.0,
    *,
    settings: Mapping[str, SettingValue] | None = None,
    name: str | None = None,
) -> Postgres:
    """initdb a fresh cluster in a private temp dir and start it on a free loopback port.

    `settings` are any postgresql.conf keys (`wal_level`, `wal_log_hints`, `archive_mode`,
    `archive_command`, `synchronous_standby_names`, `max_wal_senders`...), written into the
    cluster's postgresql.conf so that `SHOW` reports them and ALTER SYSTEM can still change
    them. `name` becomes `cluster_name` (and a replica's application_name on its primary).
    """
    bin_dir = _bin_dir()
    run_as = _run_as_user()
    base = make_postgres_dir()
    data_dir = base / "data"
    try:
        _checked(_as_user(run_as, [str(bin_dir / "initdb"), "-D", str(data_dir), "-U",
                                   "postgres", "--auth=trust", "--encoding=UTF8",
                                   "--no-sync"]), "initdb")
        merged = {**BASE_SETTINGS, **(settings or {})}
        _append_settings(data_dir, merged, "aiinfra_shared: settings of this test cluster")
    except (ServiceStartError, ValueError, OSError):
        shutil.rmtree(base, ignore_errors=True)
        raise
    port = free_port()
    return _launch(base=base, data_dir=data_dir, bin_dir=bin_dir, run_as=run_as, port=port,
                   name=name or f"pg{port}", settings=merged, timeout=timeout)


def start_postgres_replica(
    primary: Postgres,
    *,
    name: str | None = None,
    slot: str | bool = True,
    settings: Mapping[str, SettingValue] | None = None,
    timeout: float = 60.0,
) -> Postgres:
    """A streaming standby of `primary`, made with `pg_basebackup -R -X stream`.

    `slot=True` creates a physical replication slot named after the replica (a string names
    it; False uses none), so the primary keeps the WAL the standby has not received yet.
    The replica's `name` is its cluster_name, hence its application_name in
    `pg_stat_replication` and what `synchronous_standby_names` refers to. `settings` are
    appended to the postgresql.conf copied from the primary.
    """
    bin_dir = primary.bin_dir
    run_as = primary.run_as
    port = free_port()
    name = name or f"replica{port}"
    slot_name: str | None = name if slot is True else (slot or None)
    if slot_name and not _SLOT_NAME.fullmatch(slot_name):
        raise ValueError(f"slot name {slot_name!r}: use lower-case letters, digits and _")
    base = make_postgres_dir("aiinfra-pg-replica-")
    data_dir = base / "data"
    command = [str(bin_dir / "pg_basebackup"), "-h", primary.host, "-p", str(primary.port),
               "-U", primary.user, "-D", str(data_dir), "-R", "-X", "stream", "-c", "fast",
               "--no-sync"]
    if slot_name:
        command += ["-C", "-S", slot_name]
    try:
        _checked(_as_user(run_as, command), "pg_basebackup", timeout=300)
        _append_settings(data_dir, dict(settings or {}),
                         f"aiinfra_shared: settings of replica {name}")
    except (ServiceStartError, ValueError, OSError):
        shutil.rmtree(base, ignore_errors=True)
        raise
    return _launch(base=base, data_dir=data_dir, bin_dir=bin_dir, run_as=run_as, port=port,
                   name=name, settings={**primary.settings, **(settings or {})},
                   timeout=timeout, primary=primary, slot=slot_name)
