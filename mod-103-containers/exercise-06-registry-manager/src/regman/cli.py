"""Command line for regman: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, print_table, progress_bar
from aiinfra_shared.io import atomic_write_bytes
from rich.console import Console

from regman import __version__
from regman.clients import client_for
from regman.config import Settings

# Pipes and CI logs get wide tables instead of rich's 80-column default.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    print_table(title, columns, rows, console)


@click.group(cls=AppGroup, epilog="""\b
Examples:
  regman --registry http://127.0.0.1:5000 repos
  regman inspect 127.0.0.1:5000/apps/api:v1 --json
  regman copy 127.0.0.1:5000/apps/api:v1 127.0.0.1:5001/apps/api:v1
  regman key generate && regman sign 127.0.0.1:5000/apps/api:v1 --key cosign.key
  regman retention plan --policy retention.yaml
  regman replicate run --config replication.yaml
  regman demo        # two local registries, end to end""")
@click.version_option(__version__, prog_name="regman")
@click.option("--config", "config_file", type=click.Path(path_type=Path), envvar="REGMAN_CONFIG",
              help="Settings file (YAML/TOML); REGMAN_* env vars override it.")
@click.option("--registry", default=None, help="Default registry URL (REGMAN_REGISTRY).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, registry: str | None) -> None:
    """Registry Manager: operate private OCI registries -- inspect, copy, sign and verify
    (cosign format), retention with explanations, replication, and a Prometheus exporter.

    Credentials come from REGMAN_USERNAME / REGMAN_PASSWORD (basic or bearer-token auth).
    """
    overrides: dict[str, Any] = {"registry": registry} if registry else {}
    ctx.obj = Settings.load(config_file, **overrides)


main = cli


# ------------------------------------------------------------------ browsing


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def repos(ctx: click.Context, as_json: bool) -> None:
    """List repositories of the registry (catalog).

    \b
    Example: regman --registry http://127.0.0.1:5000 repos --json
    """
    with client_for(_settings(ctx)) as client:
        names = client.catalog()
    if as_json:
        echo_json(names)
    else:
        _table(f"repositories on {client.base_url}", ["repository"], [[n] for n in names])


@cli.command()
@click.argument("repository")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tags(ctx: click.Context, repository: str, as_json: bool) -> None:
    """List tags of REPOSITORY (`apps/api` or `host:port/apps/api`) with their digests."""
    from regman.reference import parse_reference

    settings = _settings(ctx)
    ref = parse_reference(repository, settings.registry)
    with client_for(settings, ref.registry) as client:
        rows = [{"tag": t, "digest": client.head_manifest(ref.repository, t)}
                for t in sorted(client.tags(ref.repository))]
    if as_json:
        echo_json(rows)
    else:
        _table(f"{ref.name}", ["tag", "digest"], [[r["tag"], r["digest"]] for r in rows])


@cli.command()
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def inspect(ctx: click.Context, reference: str, as_json: bool) -> None:
    """Show manifest, config, layers, total size, created, labels (platforms of an index).

    \b
    Example: regman inspect 127.0.0.1:5000/apps/api:v1
    """
    from regman.inspection import inspect_image
    from regman.reference import parse_reference

    settings = _settings(ctx)
    ref = parse_reference(reference, settings.registry)
    with client_for(settings, ref.registry) as client:
        info = inspect_image(client, ref)
    if as_json:
        echo_json(info)
        return
    console.print(f"[bold]{info['reference']}[/bold]  {info['digest']}")
    console.print(f"type {info['media_type']}  size {_human(info['size'])}")
    if info["kind"] == "index":
        _table("platforms", ["os/arch", "digest", "size", "created"],
               [[f"{p['os']}/{p['architecture']}" + (f"/{p['variant']}" if p['variant'] else ""),
                 p["digest"], _human(p["size"]), p["created"]] for p in info["platforms"]])
        return
    console.print(f"created {info['created']}  platform {info['os']}/{info['architecture']}")
    for key, value in info["labels"].items():
        console.print(f"label {key}={value}")
    _table("layers", ["digest", "size", "media type"],
           [[layer["digest"], _human(layer["size"]), layer["mediaType"]]
            for layer in info["layers"]])


@cli.command()
@click.argument("source")
@click.argument("destination")
@click.option("--dry-run", is_flag=True, help="Only report what would move.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Blobs copied at once (REGMAN_COPY_JOBS, default 4).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def copy(ctx: click.Context, source: str, destination: str, dry_run: bool,
         jobs: int | None, as_json: bool) -> None:
    """Copy SOURCE to DESTINATION (image or index), skipping blobs the target has.

    Within one registry blobs are mounted across repositories (no bytes move); large blobs
    are uploaded in chunks. The destination tag is written last.

    \b
    Example: regman copy 127.0.0.1:5000/apps/api:v1 127.0.0.1:5001/mirror/api:v1
    """
    from regman.copying import copy_image
    from regman.reference import parse_reference

    settings = _settings(ctx)
    src_ref = parse_reference(source, settings.registry)
    dst_ref = parse_reference(destination, settings.registry)
    if dst_ref.tag is None and dst_ref.digest is None and src_ref.tag:
        dst_ref = dst_ref.with_tag(src_ref.tag)
    with client_for(settings, src_ref.registry) as src, \
            client_for(settings, dst_ref.registry) as dst, \
            progress_bar("copying blobs") as advance:
        result = copy_image(src, src_ref, dst, dst_ref, dry_run=dry_run,
                            progress=lambda n: advance(1) if n else None,
                            jobs=jobs or settings.copy_jobs)
    if as_json:
        echo_json(result.to_json())
        return
    state = "up to date" if result.up_to_date else ("would copy" if dry_run else "copied")
    console.print(f"{state}: {result.source} -> {result.destination} ({result.digest})")
    console.print(f"blobs uploaded {result.blobs_uploaded}, mounted {result.blobs_mounted}, "
                  f"already present {result.blobs_present}; "
                  f"{_human(result.bytes_uploaded)} uploaded")
    for action in result.actions:
        console.print(f"  {action}")


@cli.command()
@click.argument("reference")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx: click.Context, reference: str, yes: bool) -> None:
    """Delete the manifest REFERENCE resolves to (removes every tag pointing at it).

    \b
    Example: regman delete 127.0.0.1:5000/apps/api:old --yes
    """
    from regman.errors import NotFoundInRegistryError
    from regman.reference import parse_reference

    settings = _settings(ctx)
    ref = parse_reference(reference, settings.registry, require_identifier=True)
    with client_for(settings, ref.registry) as client:
        digest = ref.digest or client.head_manifest(ref.repository, ref.identifier)
        if not digest:
            raise NotFoundInRegistryError(f"{ref}: no such manifest")
        if not yes:
            click.confirm(f"delete {ref.name}@{digest} and all its tags?", abort=True)
        client.delete_manifest(ref.repository, digest)
    click.echo(f"deleted {ref.name}@{digest}")


# ------------------------------------------------------------------ signing


def _key_password(confirm: bool = False) -> str:
    for name in ("REGMAN_KEY_PASSWORD", "COSIGN_PASSWORD"):
        if name in os.environ:
            return os.environ[name]
    if not os.isatty(0):
        raise CLIError("no key password: set REGMAN_KEY_PASSWORD (or COSIGN_PASSWORD)",
                       ExitCode.CONFIG)
    value: str = click.prompt("key password", hide_input=True,
                              confirmation_prompt=confirm)
    return value


@cli.group()
def key() -> None:
    """Signing keys (ECDSA P-256, cosign's encrypted key format)."""


@key.command("generate")
@click.option("--output-prefix", default="cosign", show_default=True,
              help="Writes PREFIX.key (encrypted) and PREFIX.pub.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def key_generate(output_prefix: str, force: bool) -> None:
    """Generate a key pair; the password comes from REGMAN_KEY_PASSWORD or a prompt.

    \b
    Example: REGMAN_KEY_PASSWORD=s3cret regman key generate --output-prefix ci
    """
    from regman.signing import generate_key_pair

    private_path, public_path = Path(f"{output_prefix}.key"), Path(f"{output_prefix}.pub")
    for path in (private_path, public_path):
        if path.exists() and not force:
            raise CLIError(f"{path} exists (use --force to overwrite)", ExitCode.CONFLICT)
    private_pem, public_pem = generate_key_pair(_key_password(confirm=True))
    atomic_write_bytes(private_path, private_pem)
    private_path.chmod(0o600)
    atomic_write_bytes(public_path, public_pem)
    click.echo(f"wrote {private_path} and {public_path}")


@cli.command()
@click.argument("reference")
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path),
              help="Encrypted private key (cosign.key).")
@click.option("-a", "--annotation", multiple=True, help="KEY=VALUE added to the payload.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def sign(ctx: click.Context, reference: str, key_path: Path, annotation: tuple[str, ...],
         as_json: bool) -> None:
    """Sign the digest REFERENCE resolves to; stores tag sha256-<hex>.sig (cosign layout).

    \b
    Example: regman sign 127.0.0.1:5000/apps/api:v1 --key cosign.key -a team=ml
    """
    from regman.reference import parse_reference
    from regman.signing import load_private_key, sign_image

    settings = _settings(ctx)
    ref = parse_reference(reference, settings.registry)
    annotations = {}
    for item in annotation:
        name, sep, value = item.partition("=")
        if not sep:
            raise CLIError(f"bad annotation {item!r}: expected KEY=VALUE", ExitCode.USAGE)
        annotations[name] = value
    private = load_private_key(key_path, _key_password())
    with client_for(settings, ref.registry) as client:
        result = sign_image(client, ref, private, annotations or None)
    if as_json:
        echo_json(result)
    else:
        click.echo(f"signed {ref.name}@{result['digest']} -> :{result['signature_tag']}")


@cli.command()
@click.argument("reference")
@click.option("--key", "key_path", type=click.Path(path_type=Path), help="Public key (PEM).")
@click.option("--policy", "policy_path", type=click.Path(path_type=Path),
              help="policy.yaml: required keys per repository pattern.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def verify(ctx: click.Context, reference: str, key_path: Path | None,
           policy_path: Path | None, as_json: bool) -> None:
    """Verify REFERENCE's signatures with --key, or with every key --policy requires.

    Exit 1 when verification fails. Policy keys are told apart by fingerprint; a repository
    no policy rule covers fails unless the policy says `default: allow`.

    \b
    Examples:
      regman verify 127.0.0.1:5000/apps/api:v1 --key cosign.pub
      regman verify 127.0.0.1:5000/prod/api:v1 --policy policy.yaml
    """
    from regman.errors import VerificationError
    from regman.reference import parse_reference
    from regman.signing import load_policy, load_public_key, policy_keys, verify_image

    if (key_path is None) == (policy_path is None):
        raise CLIError("give exactly one of --key or --policy", ExitCode.USAGE)
    settings = _settings(ctx)
    ref = parse_reference(reference, settings.registry)
    if key_path is not None:
        keys = {key_path.name: load_public_key(key_path)}
    else:
        assert policy_path is not None
        policy = load_policy(policy_path)
        required = policy_keys(policy, ref.repository)
        if required is None:
            note = f"no policy rule covers {ref.repository} (default: {policy.default})"
            if policy.default != "allow":
                raise VerificationError(f"{ref}: {note}")
            result: dict[str, Any] = {"reference": str(ref), "verified_keys": [],
                                      "note": note}
            if as_json:
                echo_json(result)
            else:
                click.echo(f"{ref}: {note}")
            return
        keys = {k.name: k.key for k in required}
    with client_for(settings, ref.registry) as client:
        result = verify_image(client, ref, keys)
    if as_json:
        echo_json(result)
    else:
        click.echo(f"verified {ref.name}@{result['digest']} with "
                   f"{', '.join(result['verified_keys'])}")


# ------------------------------------------------------------------ retention


@cli.group()
def retention() -> None:
    """Retention policies: plan (explain every deletion) and apply (delete + GC)."""


def _plan(ctx: click.Context, policy_path: Path) -> tuple[Any, Any, Any]:
    from regman.inventory import collect_inventory, mark_first_seen
    from regman.retention import load_policy, plan, signature_verifier
    from regman.state import StateStore

    settings = _settings(ctx)
    policy = load_policy(policy_path)
    verifier = signature_verifier(policy, policy_path)
    client = client_for(settings)
    with progress_bar("scanning repositories") as advance:
        inventories = collect_inventory(client, [r.repositories for r in policy.rules],
                                        settings.storage_root, progress=advance,
                                        verifier=verifier)
    now = datetime.now(UTC)
    mark_first_seen(StateStore(settings.state_dir), client.host, inventories, now)
    return client, policy, plan(inventories, policy, now)


def _render_plan(result: Any, show_kept: bool) -> None:
    rows = [[d.action, d.repository, ",".join(d.tags) or "<untagged>", d.digest[:19],
             _human(d.size), d.rule, d.reason]
            for d in result.decisions if show_kept or d.action == "delete"]
    _table("retention plan", ["action", "repository", "tags", "digest", "size", "rule",
                              "reason"], rows)
    console.print(f"{len(result.deletions)} manifest(s) to delete, about "
                  f"{_human(result.reclaimable_bytes)} reclaimable after GC")


@retention.command("plan")
@click.option("--policy", "policy_path", required=True, type=click.Path(path_type=Path),
              help="Retention policy YAML.")
@click.option("--all", "show_kept", is_flag=True, help="Also list what is kept and why.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Save the plan (JSON) for `retention apply`.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def retention_plan(ctx: click.Context, policy_path: Path, show_kept: bool,
                   out_path: Path | None, as_json: bool) -> None:
    """Dry run: what would be deleted, and the rule that decided it. Deletes nothing.

    \b
    Example: regman retention plan --policy retention.yaml --all --out plan.json
    """
    client, _, result = _plan(ctx, policy_path)
    client.close()
    if out_path is not None:
        result.save(out_path, client.base_url, policy_path)
    if as_json:
        echo_json(result.to_json())
    else:
        _render_plan(result, show_kept)
        if out_path is not None:
            console.print(f"plan saved to {out_path}: review it, then "
                          f"`regman retention apply {out_path}`")


@retention.command("apply")
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.option("--gc/--no-gc", default=True, show_default=True,
              help="Run the registry's garbage collector when REGMAN_GC_CONFIG is set.")
@click.option("--i-have-stopped-writes", "writes_stopped", is_flag=True,
              help="Confirm nothing pushes to the registry, so garbage collection is safe.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def retention_apply(ctx: click.Context, plan_path: Path, gc: bool, writes_stopped: bool,
                    as_json: bool) -> None:
    """Delete what the saved PLAN (`retention plan --out`) says, nothing else.

    Every digest is re-checked first: one that gained a tag since planning is skipped, and
    so are the children and signatures of anything skipped. Then runs `docker-registry
    garbage-collect REGMAN_GC_CONFIG` (or says how to) and reports bytes freed (measured on
    REGMAN_STORAGE_ROOT when set, else estimated). GC on a registry that may take pushes
    can delete blobs of an in-flight push: it is refused (exit 6, before deleting anything)
    unless that config sets storage.maintenance.readonly or --i-have-stopped-writes is given.

    \b
    Example: regman retention plan --policy retention.yaml --out plan.json
             REGMAN_GC_CONFIG=/etc/docker/registry/config.yml regman retention apply \\
               plan.json --i-have-stopped-writes
    """
    from regman.adapters.gc import disk_usage, garbage_collect, registry_read_only
    from regman.retention import apply_plan, load_saved_plan
    from regman.state import StateStore

    settings = _settings(ctx)
    result, registry_url = load_saved_plan(plan_path)
    wants_gc = gc and settings.gc_config is not None and bool(result.deletions)
    if wants_gc and not writes_stopped:
        assert settings.gc_config is not None
        if not registry_read_only(settings.gc_config):
            raise CLIError(f"refusing to garbage-collect a registry that may take pushes: set "
                           f"storage.maintenance.readonly in {settings.gc_config} or stop "
                           "writes and pass --i-have-stopped-writes (or use --no-gc)",
                           ExitCode.CONFLICT)
    client = client_for(settings, registry_url)
    before = disk_usage(settings.storage_root) if settings.storage_root else None
    with client, progress_bar("deleting", total=len(result.deletions)) as advance:
        outcome = apply_plan(client, result, progress=advance)
    gc_ran = False
    if wants_gc and outcome.deleted:
        assert settings.gc_config is not None
        garbage_collect(settings.registry_binary, settings.gc_config)
        gc_ran = True
    measured = before is not None and gc_ran and settings.storage_root is not None
    freed = (before - disk_usage(settings.storage_root)  # type: ignore[operator,arg-type]
             if measured else result.reclaimable_bytes)
    StateStore(settings.state_dir).record_retention(client.host, len(outcome.deleted),
                                                    freed if gc_ran else 0, time.time())
    report = {"deleted": [d.to_json() for d in outcome.deleted], "skipped": outcome.skipped,
              "gc_ran": gc_ran, "bytes_freed": freed, "bytes_freed_measured": measured}
    if as_json:
        echo_json(report)
        return
    _table("retention applied", ["repository", "tags", "digest", "rule"],
           [[d.repository, ",".join(d.tags) or "<untagged>", d.digest[:19], d.rule]
            for d in outcome.deleted])
    for line in outcome.skipped:
        console.print(f"skipped {line}")
    if gc_ran:
        how = "measured" if measured else "estimated"
        console.print(f"garbage collected: {_human(freed)} freed ({how})")
    elif outcome.deleted:
        console.print(f"{_human(freed)} reclaimable: run `docker-registry garbage-collect "
                      "<config.yml>` with the registry idle (or set REGMAN_GC_CONFIG)")


# ------------------------------------------------------------------ replication


@cli.group()
def replicate() -> None:
    """Replication rules: copy matching images (and signatures) to another registry."""


def _rules(config_path: Path, rule_name: str | None) -> tuple[Any, list[Any]]:
    from regman.replication import load_config

    config = load_config(config_path)
    rules = [r for r in config.rules if rule_name in (None, r.name)]
    if not rules:
        raise CLIError(f"no rule named {rule_name!r} in {config_path}", ExitCode.NOT_FOUND)
    return config, rules


@replicate.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="Replication rules YAML.")
@click.option("--rule", "rule_name", default=None, help="Only this rule.")
@click.option("--dry-run", is_flag=True, help="Report what would be copied.")
@click.option("--watch", is_flag=True, help="Keep running rules on their interval_seconds.")
@click.option("--max-cycles", type=int, default=None, help="With --watch: stop after N.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def replicate_run(ctx: click.Context, config_path: Path, rule_name: str | None, dry_run: bool,
                  watch: bool, max_cycles: int | None, as_json: bool) -> None:
    """Run replication rules now (or on their schedule with --watch). Exit 1 on failures.

    \b
    Examples:
      regman replicate run --config replication.yaml --dry-run
      regman replicate run --config replication.yaml --watch
    """
    from regman.replication import (
        due_rules,
        endpoint_client,
        pending,
        record_run,
        run_rule,
    )
    from regman.state import StateStore

    settings = _settings(ctx)
    config, rules = _rules(config_path, rule_name)
    store = StateStore(settings.state_dir)
    cycles = 0
    runs: list[Any] = []
    while True:
        todo = due_rules(config, store, time.time()) if watch else rules
        todo = [r for r in todo if r in rules]
        for rule in todo:
            with endpoint_client(config.registries[rule.source], settings) as src, \
                    endpoint_client(config.registries[rule.destination], settings) as dst, \
                    progress_bar(f"rule {rule.name}") as advance:
                run = run_rule(src, dst, rule, dry_run=dry_run, progress=advance,
                               jobs=settings.copy_jobs)
                if not dry_run:
                    left = None if run.failures else len(pending(src, dst, rule))
                    record_run(store, run, left)
            runs.append(run)
            if not as_json:
                _render_run(run)
        cycles += 1
        if not watch or (max_cycles is not None and cycles >= max_cycles):
            break
        time.sleep(min([r.interval_seconds for r in rules] + [30.0]))
    if as_json:
        echo_json([r.to_json() for r in runs])
    if any(r.failures for r in runs):
        raise CLIError(f"{sum(len(r.failures) for r in runs)} image(s) failed to replicate: "
                       f"{runs[-1].failures[0] if runs[-1].failures else ''}".rstrip(": "),
                       ExitCode.FAILURE)


def _render_run(run: Any) -> None:
    verb = "would copy" if run.dry_run else "copied"
    console.print(f"rule {run.rule}: {run.images} image(s), {verb} {run.copied}, up to date "
                  f"{run.up_to_date}, signatures {run.signatures_copied}, "
                  f"{_human(run.bytes_uploaded)} uploaded, {len(run.failures)} failure(s)")
    for action in run.actions:
        console.print(f"  {action}")
    for failure in run.failures:
        console.print(f"  [red]failed[/red] {failure}")


@replicate.command("status")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="Replication rules YAML.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def replicate_status(ctx: click.Context, config_path: Path, as_json: bool) -> None:
    """Per rule: images pending, lag (0 = in sync), last run/success, failures."""
    from regman.replication import endpoint_client, rule_status
    from regman.state import StateStore

    settings = _settings(ctx)
    config, rules = _rules(config_path, None)
    store = StateStore(settings.state_dir)
    statuses = []
    for rule in rules:
        with endpoint_client(config.registries[rule.source], settings) as src, \
                endpoint_client(config.registries[rule.destination], settings) as dst:
            statuses.append(rule_status(src, dst, rule, store))
    if as_json:
        echo_json(statuses)
        return

    def when(value: float | None) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value)) if value else "never"

    _table("replication status", ["rule", "source", "destination", "pending", "lag",
                                  "last success", "failures"],
           [[s["rule"], s["source"], s["destination"], s["pending"],
             "never synced" if s["lag_seconds"] is None else f"{s['lag_seconds']:.0f}s",
             when(s["last_success"]), s["failures_total"]] for s in statuses])


# ------------------------------------------------------------------ monitoring + demo


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--port", type=int, default=None, help="Listen port (REGMAN_EXPORTER_PORT).")
@click.option("--replication", "replication_path", type=click.Path(path_type=Path),
              default=None, help="Replication rules YAML, for lag/failure metrics.")
@click.pass_context
def exporter(ctx: click.Context, host: str, port: int | None,
             replication_path: Path | None) -> None:
    """Serve Prometheus metrics on /metrics (repos, tags, bytes, signing, replication,
    retention).

    \b
    Example: regman --registry http://127.0.0.1:5000 exporter --port 9490
    """
    from regman.exporter import RegmanCollector, serve
    from regman.replication import load_config

    settings = _settings(ctx)
    config = load_config(replication_path) if replication_path else None
    collector = RegmanCollector(client_for(settings), settings, config)
    click.echo(f"serving metrics on http://{host}:{port or settings.exporter_port}/metrics",
               err=True)
    serve(collector, host, port or settings.exporter_port)


@cli.group()
def notifications() -> None:
    """Registry push notifications: record when each image first arrived."""


@notifications.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--port", type=int, default=9491, show_default=True, help="Listen port.")
@click.pass_context
def notifications_serve(ctx: click.Context, host: str, port: int) -> None:
    """Receive the registry's push events (its config.yml `notifications.endpoints`) and
    record each pushed manifest as first seen now, for the retention grace window.

    Set REGMAN_NOTIFICATIONS_TOKEN to require `Authorization: Bearer <token>` (put the same
    header in the registry's endpoint config). Events count for the --registry host.

    \b
    Example: REGMAN_NOTIFICATIONS_TOKEN=... regman --registry http://127.0.0.1:5000 \\
               notifications serve --port 9491
    """
    from regman.notifications import make_server
    from regman.reference import host_of
    from regman.state import StateStore

    settings = _settings(ctx)
    server = make_server(StateStore(settings.state_dir), host_of(settings.registry), host,
                         port, settings.notifications_token)
    click.echo(f"recording push notifications for {host_of(settings.registry)} on "
               f"http://{host}:{port}/", err=True)
    with server:
        server.serve_forever()


@cli.command()
@click.option("--workdir", type=click.Path(path_type=Path), default=Path(".regman-demo"),
              show_default=True, help="Where the demo registries and keys live.")
def demo(workdir: Path) -> None:
    """Start two local registries, push sample images, sign, replicate, apply retention and
    print the report. Needs docker-registry (apt). Stops the registries at the end.
    """
    from regman.demo import run_demo

    run_demo(workdir, console)
