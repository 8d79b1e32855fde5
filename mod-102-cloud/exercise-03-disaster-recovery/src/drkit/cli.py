"""Command line for drkit: parse, call the core, render. No logic lives here.

Exit codes (the curriculum's): 0 ok, 1 failure (checksum, WAL gap, drill missed its
target), 2 usage, 3 configuration (settings, keys, scenario files), 4 not found (backup,
target outside what the archive covers), 5 unavailable (bucket, database, tool),
6 conflict (restore dir not empty, port taken, Object Lock refusal), 70 internal.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json
from aiinfra_shared.cli import expected_errors as shared_expected_errors
from aiinfra_shared.io import atomic_write_text

from drkit import __version__
from drkit.adapters import postgres as pg
from drkit.adapters.awsbackup import apply_backup_plan
from drkit.adapters.nodes import PgCtlNode
from drkit.adapters.route53 import ServiceRecord
from drkit.adapters.s3 import ObjectStore, make_client
from drkit.archiver import archive_command, drain
from drkit.backup import take_backup
from drkit.config import Region, Settings
from drkit.envelope import generate_identity, parse_identity
from drkit.errors import ConfigurationError, DrkitError
from drkit.failover import Pointer, failover
from drkit.monitoring import backup_gauges
from drkit.replicator import replicate
from drkit.report import results_table
from drkit.repository import Repository, wal_key
from drkit.restore import dry_run, restore, verify
from drkit.restore_plan import RestoreTarget
from drkit.retention import plan_retention
from drkit.scenarios import STEPS, parse_scenario

# DrkitError -> one line on stderr and its documented exit code.
expected_errors = shared_expected_errors(DrkitError)


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def store_of(region: Region, which: str = "backup") -> ObjectStore:
    bucket = {"backup": region.backup_bucket, "artifact": region.artifact_bucket,
              "config": region.config_bucket}[which]
    return ObjectStore(make_client(region.endpoint_url, region.name), bucket,
                       f"{region.name}/{bucket}")


def identity_of(settings: Settings, path: Path | None) -> Any:
    chosen = path or settings.identity_file
    if chosen is None:
        raise ConfigurationError("no age identity: pass --identity FILE or set "
                                 "DRKIT_IDENTITY_FILE")
    try:
        text = Path(chosen).read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read identity file {chosen}: {exc.strerror}") from exc
    return parse_identity(text)


@click.group(cls=AppGroup, epilog="""Examples:

\b
  drkit demo                                   # everything on loopback, prints RTO/RPO
  drkit keygen --out key.age                   # age key pair (public key printed)
  drkit backup --json                          # base backup into the primary bucket
  drkit restore --target-time 2026-12-01T10:00:00Z --to /srv/restore --port 6543 --dry-run
  drkit drill run scenarios/kill-primary.yaml
""")
@click.version_option(__version__, prog_name="drkit")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, envvar="DRKIT_CONFIG", help="YAML/TOML settings file.")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """drkit: backups, PITR, failover and measured DR drills for an ML platform's
    metadata database, model artifacts and configuration."""
    if config_file is not None and not config_file.is_file():
        raise CLIError(f"config file {config_file} does not exist", ExitCode.CONFIG)
    ctx.obj = Settings.load(config_file)


main = cli


@cli.command()
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the identity (secret) file; must not exist.")
@expected_errors
def keygen(out: Path) -> None:
    """Create an age key pair: the identity file (secret) and the public recipient."""
    if out.exists():
        raise CLIError(f"{out} exists: refusing to overwrite a key", ExitCode.CONFLICT)
    text, public = generate_identity()
    atomic_write_text(out, text)
    out.chmod(0o600)
    click.echo(public)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the catalog entry as JSON.")
@click.pass_context
@expected_errors
def backup(ctx: click.Context, as_json: bool) -> None:
    """Take a base backup (pg_basebackup + pg_verifybackup), seal and upload it."""
    settings = settings_of(ctx)
    repository = Repository(store_of(settings.primary))
    entry = take_backup(settings.primary_dsn, repository, settings.recipients,
                        timeout=settings.command_timeout_s,
                        artifact_table=settings.artifact_table)
    if settings.spool_dir is not None:
        drain(settings.spool_dir, repository, settings.recipients)
    if as_json:
        echo_json(entry.model_dump(mode="json"))
    else:
        click.echo(f"backup {entry.backup_id}: timeline {entry.timeline}, "
                   f"{entry.start_lsn}..{entry.stop_lsn}, {entry.stored_size} bytes stored")


@cli.group()
def archive() -> None:
    """WAL archiving: the archive_command and the spool uploader."""


@archive.command("command")
@click.option("--spool", type=click.Path(path_type=Path), required=True)
def archive_command_cmd(spool: Path) -> None:
    """Print the archive_command for postgresql.conf (plain shell, no Python)."""
    click.echo(archive_command(spool))


@archive.command("drain")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def archive_drain(ctx: click.Context, as_json: bool) -> None:
    """Upload every finished WAL file in the spool, then delete it locally."""
    settings = settings_of(ctx)
    if settings.spool_dir is None:
        raise ConfigurationError("no spool dir: set DRKIT_SPOOL_DIR")
    result = drain(settings.spool_dir, Repository(store_of(settings.primary)),
                   settings.recipients)
    if as_json:
        echo_json({"uploaded": result.uploaded, "bytes_stored": result.bytes_stored})
    else:
        click.echo(f"uploaded {len(result.uploaded)} WAL files")


@cli.command("catalog")
@click.option("--region", type=click.Choice(["primary", "dr"]), default="primary")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def catalog_cmd(ctx: click.Context, region: str, as_json: bool) -> None:
    """List the backups in the catalog."""
    settings = settings_of(ctx)
    repository = Repository(store_of(settings.primary if region == "primary" else settings.dr))
    rows = repository.load_catalog().summary()
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['backup_id']}  tl {row['timeline']}  {row['lsn']}  "
                   f"{row['stored_bytes']} B")


def _target(time_: str | None, lsn: str | None, name: str | None, own: bool) -> RestoreTarget:
    chosen = [x for x in (time_, lsn, name) if x] + (["backup"] if own else [])
    if len(chosen) > 1:
        raise CLIError("choose one of --target-time, --target-lsn, --target-name, "
                       "--backup-point", ExitCode.USAGE)
    if time_:
        try:
            when = datetime.fromisoformat(time_.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CLIError(f"--target-time {time_!r} is not ISO-8601", ExitCode.USAGE) from exc
        return RestoreTarget("time", time_, when if when.tzinfo else when.replace(tzinfo=UTC))
    if lsn:
        return RestoreTarget("lsn", lsn)
    if name:
        return RestoreTarget("name", name)
    return RestoreTarget("backup") if own else RestoreTarget("latest")


@cli.command("restore")
@click.option("--to", "target_dir", type=click.Path(path_type=Path), required=True,
              help="New data dir (absent or empty).")
@click.option("--port", type=int, required=True, help="Port for the restored server.")
@click.option("--target-time", default=None, help="Recover to this time (ISO-8601).")
@click.option("--target-lsn", default=None, help="Recover to this LSN (0/3000060).")
@click.option("--target-name", default=None, help="Recover to a named restore point.")
@click.option("--backup-point", is_flag=True, help="Recover to the backup's own point and "
              "compare the table checksums taken then.")
@click.option("--backup-id", default=None, help="Use this backup instead of choosing one.")
@click.option("--region", type=click.Choice(["primary", "dr"]), default="primary")
@click.option("--identity", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--dry-run", "is_dry", is_flag=True, help="Report the plan; change nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def restore_cmd(ctx: click.Context, target_dir: Path, port: int, target_time: str | None,
                target_lsn: str | None, target_name: str | None, backup_point: bool,
                backup_id: str | None, region: str, identity: Path | None, is_dry: bool,
                as_json: bool) -> None:
    """Point-in-time restore into a new data dir on a free port, then verify it."""
    settings = settings_of(ctx)
    target = _target(target_time, target_lsn, target_name, backup_point)
    repository = Repository(store_of(settings.primary if region == "primary" else settings.dr))
    if is_dry:
        plan = dry_run(repository, target, target_dir.resolve(), port, backup_id=backup_id)
        payload = plan.as_dict()
        if as_json:
            echo_json(payload)
        else:
            for key, value in payload.items():
                click.echo(f"{key}: {value}")
        if plan.conflicts or not plan.chain_complete:
            sys.exit(ExitCode.CONFLICT if plan.conflicts else ExitCode.FAILURE)
        return
    dry_run(repository, target, target_dir.resolve(), port, backup_id=backup_id)  # target ok?
    key = identity_of(settings, identity)
    result = restore(repository, target, target_dir.resolve(), port, key,
                     timeout=settings.command_timeout_s, backup_id=backup_id)
    artifacts = store_of(settings.primary if region == "primary" else settings.dr, "artifact")
    report = verify(result.server, result.plan.backup if target.kind == "backup" else None,
                    artifacts, settings.artifact_table)
    payload = {**result.plan.as_dict(), "port": port, "data_dir": str(target_dir),
               "seconds": round(result.seconds, 3), "verification": report,
               "skipped_backups": result.skipped_backups}
    if as_json:
        echo_json(payload)
    else:
        click.echo(f"restored backup {result.plan.backup.backup_id} to {target.describe()} "
                   f"in {result.seconds:.1f} s on port {port}; verification "
                   f"{'ok' if report['ok'] else 'FAILED'}")
        click.echo(f"stop it with: pg_ctl -D {target_dir} stop")
    if not report["ok"]:
        sys.exit(ExitCode.FAILURE)


@cli.group()
def retention() -> None:
    """N full backups plus a GFS schedule; WAL pruned only below the oldest kept backup."""


def _retention(ctx: click.Context, apply: bool, as_json: bool) -> None:
    settings = settings_of(ctx)
    repository = Repository(store_of(settings.primary))
    catalog = repository.load_catalog()
    plan = plan_retention(catalog.backups, repository.wal_names(), settings.retention)
    if apply:
        for backup_id in plan.delete:
            entry = catalog.find(backup_id)
            for obj in entry.objects if entry else []:
                repository.store.delete(obj.key)
        repository.save_catalog(catalog.without(set(plan.delete)))
        for name in plan.wal_delete:
            repository.store.delete(wal_key(name))
    payload = {"keep": plan.keep, "delete": plan.delete, "wal_delete": len(plan.wal_delete),
               "wal_keep_from": plan.wal_keep_from, "applied": apply}
    if as_json:
        echo_json(payload)
    else:
        click.echo(f"keep {len(plan.keep)} backups, delete {len(plan.delete)}, "
                   f"delete {len(plan.wal_delete)} WAL segments (keep from "
                   f"{plan.wal_keep_from}){'' if apply else ' [plan only]'}")


@retention.command("plan")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def retention_plan(ctx: click.Context, as_json: bool) -> None:
    """Show what retention would delete."""
    _retention(ctx, False, as_json)


@retention.command("apply")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def retention_apply(ctx: click.Context, as_json: bool) -> None:
    """Delete what the plan says (the catalog first, then the objects)."""
    _retention(ctx, True, as_json)


@cli.command("backup-plan")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def backup_plan(ctx: click.Context, as_json: bool) -> None:
    """Write the retention policy as an AWS Backup plan and a locked vault (DR region)."""
    settings = settings_of(ctx)
    info = apply_backup_plan(settings.dr.endpoint_url, settings.dr.name, settings.retention)
    echo_json(info) if as_json else click.echo(f"plan {info['plan_id']} in vault "
                                              f"{info['vault']} (locked: {info['locked']})")


@cli.command("replicate")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def replicate_cmd(ctx: click.Context, as_json: bool) -> None:
    """Copy new versions of artifacts, config and backups to the DR region; report lag."""
    settings = settings_of(ctx)
    reports = [replicate(store_of(settings.primary, which), store_of(settings.dr, which))
               for which in ("artifact", "config", "backup")]
    if as_json:
        echo_json([r.as_dict() for r in reports])
        return
    for r in reports:
        click.echo(f"{r.source} -> {r.destination}: {len(r.copied)} copied, lag "
                   f"{r.lag_before_s:.1f} s -> {r.lag_after_s:.1f} s")


@cli.command("failover")
@click.option("--standby-data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--fence-data-dir", type=click.Path(path_type=Path), default=None,
              help="The old primary's data dir: stopped and marked standby before promotion.")
@click.option("--no-detect", is_flag=True, help="Skip the health probes (planned switchover).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors
def failover_cmd(ctx: click.Context, standby_data_dir: Path | None,
                 fence_data_dir: Path | None, no_detect: bool, as_json: bool) -> None:
    """Detect, fence, promote DRKIT_STANDBY_DSN, switch the pointer file and DNS record."""
    settings = settings_of(ctx)
    if not settings.standby_dsn:
        raise ConfigurationError("no standby: set DRKIT_STANDBY_DSN")
    old = PgCtlNode("primary", pg.Endpoint.from_dsn(settings.primary_dsn), fence_data_dir)
    new = PgCtlNode("standby", pg.Endpoint.from_dsn(settings.standby_dsn), standby_data_dir)
    record = (ServiceRecord(settings.primary.endpoint_url, settings.primary.name,
                            settings.hosted_zone, settings.record_name)
              if settings.primary.endpoint_url else None)
    result = failover(old, new, Pointer(settings.pointer_file, record),
                      mode=settings.replication_mode, detect=not no_detect)
    echo_json(result.as_dict()) if as_json else click.echo(
        f"promoted {result.new_primary} (timeline {result.timeline}) in "
        f"{result.total_s:.2f} s; detection {result.detection_s:.2f} s")


@cli.group()
def drill() -> None:
    """DR drills from YAML scenarios, on a local stack drkit starts."""


@drill.command("steps")
def drill_steps() -> None:
    """List the steps a scenario may use."""
    for name, doc in sorted(STEPS.items()):
        click.echo(f"{name:15} {doc}")


@drill.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@expected_errors
def drill_validate(files: tuple[Path, ...]) -> None:
    """Check scenario files without running them."""
    for path in files:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot read ({exc.strerror})") from exc
        scenario = parse_scenario(text, str(path))
        click.echo(f"{path}: {scenario.name}, {len(scenario.steps)} steps ok")


@drill.command("run")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path(".drkit/drills"),
              show_default=True)
@click.option("--playbooks", type=click.Path(path_type=Path), default=None,
              help="Update the measured numbers in these playbooks.")
@click.option("--mode", type=click.Choice(["sync", "async"]), default="sync")
@click.option("--json", "as_json", is_flag=True)
@expected_errors
def drill_run(files: tuple[Path, ...], out: Path, playbooks: Path | None, mode: str,
              as_json: bool) -> None:
    """Run scenario files (default: kill-primary and drop-table) on a fresh local stack."""
    from drkit.demo import run_demo  # starts servers: imported only when used

    names = []
    for path in files:
        scenario = parse_scenario(path.read_text(), str(path)) if path.is_file() else None
        if scenario is None:
            raise ConfigurationError(f"{path}: no such scenario file")
        names.append(scenario.name)
    results = run_demo(names or ["kill-primary", "drop-table"], out, playbooks,
                       lambda line: None if as_json else click.echo(line, err=True), mode)
    if as_json:
        echo_json([r.as_dict() for r in results])
    else:
        click.echo(results_table(results))
    if not all(r.passed for r in results):
        sys.exit(ExitCode.FAILURE)


@cli.command()
@click.option("--all", "all_", is_flag=True, help="Run every built-in scenario.")
@click.option("--out", type=click.Path(path_type=Path), default=Path(".drkit/drills"),
              show_default=True)
@click.option("--playbooks", type=click.Path(path_type=Path), default=None)
@expected_errors
def demo(all_: bool, out: Path, playbooks: Path | None) -> None:
    """Start primary, standby and moto, back up, run the kill-primary and drop-table drills
    and print the RTO/RPO table (everything stops at the end)."""
    from drkit.demo import builtin_names, run_demo

    names = builtin_names() if all_ else ["kill-primary", "drop-table"]
    results = run_demo(names, out, playbooks, lambda line: click.echo(line, err=True))
    click.echo(results_table(results))
    click.echo(f"results: {out / 'drill-results.md'}", err=True)
    if not all(r.passed for r in results):
        sys.exit(ExitCode.FAILURE)


@cli.group()
def monitor() -> None:
    """RTO/RPO gauges for Prometheus."""


@monitor.command("push")
@click.option("--json", "as_json", is_flag=True, help="Also print the gauges.")
@click.pass_context
@expected_errors
def monitor_push(ctx: click.Context, as_json: bool) -> None:
    """Push last-backup age, WAL archive lag and replication lag to the Pushgateway."""
    from drkit.adapters.pushgateway import push
    from drkit.replicator import lag_seconds, load_state, pending_versions

    settings = settings_of(ctx)
    if not settings.pushgateway_url:
        raise ConfigurationError("no Pushgateway: set DRKIT_PUSHGATEWAY_URL")
    repository = Repository(store_of(settings.primary))
    source, dest = store_of(settings.primary, "artifact"), store_of(settings.dr, "artifact")
    artifact_lag = lag_seconds(pending_versions(source, load_state(dest)), datetime.now(UTC))
    lag = pg.replication_lag_bytes(settings.primary_dsn) if pg.probe(settings.primary_dsn)[0] \
        else {}
    gauges = backup_gauges(repository.load_catalog(), repository.last_archived_at(), lag,
                           artifact_lag)
    push(settings.pushgateway_url, "drkit", gauges)
    if as_json:
        echo_json({k: v[2] for k, v in gauges.items()})
    else:
        click.echo(f"pushed {len(gauges)} gauges to {settings.pushgateway_url}")
