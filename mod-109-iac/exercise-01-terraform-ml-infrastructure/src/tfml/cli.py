"""Command line for tfml: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import (
    AppGroup,
    CLIError,
    ExitCode,
    echo_json,
    expected_errors,
    progress_bar,
)

from tfml import __version__
from tfml.config import Settings
from tfml.errors import TfmlError

EPILOG = """\b
Examples:
  tfml docs                         regenerate every module README's tables
  tfml docs --check                 exit 1 when a README is stale (CI)
  tfml lint --no-validate           fmt -check + HCL rules, no provider needed
  tfml policy --severity HIGH       checkov + policies/*.yaml, HIGH and above block
  tfml test aws/network             terraform test (mock provider) of one module
  tfml release aws/object-store     semver gate, CHANGELOG, tag, archive in dist/
  tfml registry serve --port 8443   Module Registry Protocol over HTTPS
  tfml state lock-status --bucket B --key K --table T
  tfml demo                         what `make run` does (moto on loopback)

Exit codes: 0 ok; 1 findings/failures (lint, policy, stale docs, failed tests);
2 usage; 3 bad input files (HCL, YAML, versions.tf, suppressions); 4 not found
(module, version, lock); 5 unavailable (terraform, checkov, git, AWS endpoint);
6 conflict (dirty tree, too small a bump, existing tag, lock ID mismatch).
"""


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_object(Settings) or Settings.load()


@click.group(cls=AppGroup, epilog=EPILOG)
@click.version_option(__version__, prog_name="tfml")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              envvar="TFML_CONFIG", help="YAML/TOML settings file (env TFML_CONFIG).")
@click.option("--modules-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Module library (default terraform/modules; env TFML_MODULES_DIR).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, modules_dir: Path | None) -> None:
    """Terraform ML infrastructure modules: docs, lint, policy, tests, releases, registry,
    remote state."""
    overrides: dict[str, Any] = {"modules_dir": modules_dir} if modules_dir else {}
    if config_file is not None and not config_file.is_file():
        raise CLIError(f"config file {config_file} not found", ExitCode.CONFIG)
    ctx.obj = Settings.load(config_file, **overrides)


main = cli


# --------------------------------------------------------------------------- docs


@cli.command()
@click.argument("modules", nargs=-1)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a README is stale.")
@click.pass_context
@expected_errors(TfmlError)
def docs(ctx: click.Context, modules: tuple[str, ...], check: bool) -> None:
    """Write input/output tables between the BEGIN_TF_DOCS markers of each module README."""
    from tfml.docs import update_module_docs
    from tfml.layout import select

    settings = _settings(ctx)
    stale = []
    for module in select(settings.modules_dir, modules):
        result = update_module_docs(module.path, check=check)
        if result.stale:
            stale.append(module.key)
            click.echo(f"{'stale' if check else 'updated'}: {result.readme}")
    if check and stale:
        raise CLIError(f"{len(stale)} README(s) stale: {', '.join(stale)} (run tfml docs)")
    if not stale:
        click.echo("all module READMEs are up to date")


# --------------------------------------------------------------------------- lint


@cli.command()
@click.argument("modules", nargs=-1)
@click.option("--fmt/--no-fmt", default=True, show_default=True, help="terraform fmt -check.")
@click.option("--validate/--no-validate", default=True, show_default=True,
              help="terraform validate of the AWS modules (loads the provider: slow).")
@click.option("--json", "as_json", is_flag=True, help="Findings as JSON.")
@click.pass_context
@expected_errors(TfmlError)
def lint(ctx: click.Context, modules: tuple[str, ...], fmt: bool, validate: bool,
         as_json: bool) -> None:
    """fmt -check, validate (AWS) and HCL rules (types, descriptions, pins, no hard-coding)
    on each module and, as roots, its examples."""
    from tfml.layout import select
    from tfml.lint import Finding, examples_of, lint_example, lint_module
    from tfml.runner import fmt_check, make_terraform, map_parallel, validate_module

    settings = _settings(ctx)
    selected = select(settings.modules_dir, modules)
    findings: list[Finding] = []
    for module in selected:
        findings += lint_module(module.path, module.key)
        for example in examples_of(module.path):
            findings += lint_example(example, f"{module.key}/examples/{example.name}")
    if fmt:
        for path in fmt_check([m.path for m in selected]):
            findings.append(Finding("FMT", path, 0, "not formatted (run terraform fmt)"))
    if validate:
        aws = [m for m in selected if m.cloud == "aws"]
        tf = make_terraform(settings.work_dir, timeout=settings.terraform_timeout)
        with progress_bar("terraform validate", total=len(aws)) as advance:
            errors = map_parallel(lambda m: validate_module(tf, m.path), aws,
                                  settings.parallelism, lambda _m: advance(1))
        for module, problems in zip(aws, errors, strict=True):
            findings += [Finding("VALIDATE", module.key, 0, p) for p in problems]
    if as_json:
        echo_json([f.__dict__ for f in findings])
    else:
        for finding in findings:
            click.echo(finding.format())
    if findings:
        raise CLIError(f"{len(findings)} lint finding(s) in {len(selected)} module(s)")
    if not as_json:
        click.echo(f"{len(selected)} module(s) clean")


# --------------------------------------------------------------------------- policy


@cli.command()
@click.argument("modules", nargs=-1)
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path),
              help="Also check a plan (`terraform show -json tfplan` output), AWS.")
@click.option("--severity", type=click.Choice(["LOW", "MEDIUM", "HIGH", "CRITICAL"],
                                              case_sensitive=False),
              help="Lowest severity that fails the gate (default from settings: MEDIUM).")
@click.option("--checkov/--no-checkov", default=True, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(TfmlError)
def policy(ctx: click.Context, modules: tuple[str, ...], plan_file: Path | None,
           severity: str | None, checkov: bool, as_json: bool) -> None:
    """checkov (offline) and policies/*.yaml on the HCL and optionally a plan."""
    from tfml.layout import select
    from tfml.policy import (
        apply_suppressions,
        load_policies,
        load_suppressions,
        run_checkov,
        scan_hcl,
        scan_plan,
    )

    settings = _settings(ctx)
    threshold = (severity or settings.severity_threshold).upper()
    rules = load_policies(settings.policies_dir)
    suppressions = load_suppressions(settings.policies_dir / "suppressions.yaml")
    # `--plan FILE` alone checks the plan; with MODULES (or without --plan) the HCL too
    selected = select(settings.modules_dir, modules) if modules or not plan_file else []
    findings = []
    for module in selected:
        findings += scan_hcl(module.path, module.key, rules)
    if checkov and selected:
        with progress_bar("checkov", total=len(selected) if modules else 1) as advance:
            targets = [m.path for m in selected] if modules else [settings.modules_dir]
            for target in targets:
                findings += run_checkov(target, plan=False, severity=settings.checkov_severity,
                                        base=settings.modules_dir)
                advance(1)
    if plan_file:
        try:
            plan = json.loads(plan_file.read_text())
        except json.JSONDecodeError:
            raise CLIError(f"{plan_file}: not JSON (use terraform show -json)",
                           ExitCode.CONFIG) from None
        findings += scan_plan(plan, plan_file.name, rules)
        if checkov:
            findings += run_checkov(plan_file, plan=True, severity=settings.checkov_severity,
                                    base=plan_file.parent)
    report = apply_suppressions(findings, suppressions, threshold)
    if as_json:
        echo_json({"threshold": threshold, "blocking": [f.__dict__ for f in report.blocking],
                   "findings": [f.__dict__ for f in report.findings],
                   "suppressed": len(report.suppressed),
                   "suppressed_ids": sorted({f.id for f, _ in report.suppressed}),
                   "expired": [s.__dict__ for s in report.expired]})
    else:
        for finding in report.findings:
            click.echo(finding.format())
        for expired in report.expired:
            click.echo(f"expired suppression: {expired.id} {expired.resource} "
                       f"(expired {expired.expires})")
        click.echo(f"{len(report.findings)} finding(s), {len(report.blocking)} at or above "
                   f"{threshold}, {len(report.suppressed)} suppressed")
    if not report.ok:
        raise CLIError(f"policy gate failed: {len(report.blocking)} finding(s) at or above "
                       f"{threshold}")


# --------------------------------------------------------------------------- test


@cli.command("test")
@click.argument("modules", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(TfmlError)
def test_command(ctx: click.Context, modules: tuple[str, ...], as_json: bool) -> None:
    """terraform test (mock_provider "aws") of each AWS module, one line per run block."""
    from tfml.layout import select
    from tfml.runner import make_terraform, map_parallel, test_module

    settings = _settings(ctx)
    selected = [m for m in select(settings.modules_dir, modules) if m.cloud == "aws"]
    if not selected:
        raise CLIError("terraform test runs for AWS modules only (no google/azurerm "
                       "provider here)", ExitCode.USAGE)
    tf = make_terraform(settings.work_dir, timeout=settings.terraform_timeout)
    with progress_bar("terraform test", total=len(selected)) as advance:
        results = map_parallel(lambda m: test_module(tf, m), selected, settings.parallelism,
                               lambda _m: advance(1))
    failed = 0
    payload = []
    for result in results:
        if result.error:
            failed += 1
            click.echo(f"ERROR {result.module.key}: {result.error}")
        for run, status in result.runs.items():
            failed += status != "pass"
            payload.append({"module": result.module.key, "run": run, "status": status})
            if not as_json:
                click.echo(f"{status.upper():<5} {result.module.key} {run}")
        if result.report and result.report.status != "pass" and not as_json:
            for message in result.report.diagnostics:
                click.echo(f"      {message}")
    if as_json:
        echo_json(payload)
    if failed:
        raise CLIError(f"{failed} run(s) did not pass")


# --------------------------------------------------------------------------- release


@cli.command()
@click.argument("module")
@click.option("--bump", type=click.Choice(["patch", "minor", "major"]),
              help="Bump to make (default: the one the interface changes need).")
@click.option("--version", "version", help="Exact version instead of --bump.")
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@click.option("--date", "date_text", help="CHANGELOG date (YYYY-MM-DD, default today).")
@click.pass_context
@expected_errors(TfmlError)
def release(ctx: click.Context, module: str, bump: str | None, version: str | None,
            dry_run: bool, date_text: str | None) -> None:
    """Semver gate from the interface, CHANGELOG, tag MODULE/vX.Y.Z, archive in dist/."""
    from tfml.layout import resolve
    from tfml.release import execute, plan_release
    from tfml.semver import Bump

    settings = _settings(ctx)
    if bump and version:
        raise CLIError("use --bump or --version, not both", ExitCode.USAGE)
    try:
        date = dt.date.fromisoformat(date_text) if date_text else None
    except ValueError:
        raise CLIError(f"--date {date_text!r} is not YYYY-MM-DD", ExitCode.USAGE) from None
    target = resolve(settings.modules_dir, module)
    plan = plan_release(target, bump=Bump.parse(bump) if bump else None, version=version)
    for change in plan.changes:
        click.echo(f"  {change.bump.name.lower():<5} {change.message}")
    click.echo(f"{target.key}: {plan.previous or 'none'} -> {plan.version} "
               f"(interface needs {plan.required.name.lower()})")
    if dry_run:
        return
    execute(plan, dist=settings.dist_dir, namespace=settings.namespace, date=date)
    click.echo(f"tagged {plan.tag}; archive {plan.archive}")


# --------------------------------------------------------------------------- registry


@cli.group()
def registry() -> None:
    """The private module registry."""


@registry.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True)
@click.option("--dist", "dist_dir", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
@expected_errors(TfmlError, OSError)
def registry_serve(ctx: click.Context, port: int, dist_dir: Path | None) -> None:
    """Serve dist/ over HTTPS (Module Registry Protocol) until interrupted."""
    from tfml.registry import make_server
    from tfml.tls import ensure_tls

    settings = _settings(ctx)
    tls = ensure_tls(settings.work_dir / "tls", settings.registry_host)
    server = make_server(dist_dir or settings.dist_dir, tls, port=port)
    click.echo(f"serving {dist_dir or settings.dist_dir} at {server.url}")
    click.echo(f"consumers: SSL_CERT_FILE={tls.ca_cert} and in the CLI config:\n"
               f'host "{settings.registry_host}" {{\n  services = {{\n'
               f'    "modules.v1" = "{server.modules_url}"\n  }}\n}}')
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


# --------------------------------------------------------------------------- state


def _backend_options(fn: Any) -> Any:
    for option in reversed([
        click.option("--bucket", required=True, help="State bucket."),
        click.option("--key", default="terraform.tfstate", show_default=True),
        click.option("--table", "table", help="DynamoDB lock table."),
        click.option("--lockfile/--no-lockfile", default=True, show_default=True,
                     help="S3 lockfiles (use_lockfile)."),
        click.option("--region", help="Region (default from settings)."),
    ]):
        fn = option(fn)
    return fn


def _backend(ctx: click.Context, bucket: str, key: str, table: str | None, lockfile: bool,
             region: str | None) -> Any:
    from tfml.state import Backend

    return Backend(bucket=bucket, key=key, region=region or _settings(ctx).region,
                   dynamodb_table=table, use_lockfile=lockfile)


@cli.group()
def state() -> None:
    """Remote state: bootstrap, migrate, lock-status, unlock (AWS_ENDPOINT_URL honoured)."""


@state.command("bootstrap")
@_backend_options
@click.pass_context
@expected_errors(TfmlError)
def state_bootstrap(ctx: click.Context, /, **kw: Any) -> None:
    """Create the versioned, encrypted state bucket and the lock table."""
    from tfml.state import bootstrap

    for line in bootstrap(_backend(ctx, **kw)):
        click.echo(line)


@state.command("migrate")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_backend_options
@click.pass_context
@expected_errors(TfmlError)
def state_migrate(ctx: click.Context, /, root: Path, **kw: Any) -> None:
    """Move ROOT's state to the S3 backend, then check `plan -detailed-exitcode` is 0."""
    from tfml.runner import make_terraform
    from tfml.state import migrate

    settings = _settings(ctx)
    tf = make_terraform(settings.work_dir, timeout=settings.terraform_timeout)
    code = migrate(tf, root, _backend(ctx, **kw))
    if code != 0:
        raise CLIError("state migrated but the plan is not empty (exit 2): check the backend")
    click.echo("state migrated; plan -detailed-exitcode = 0")


@state.command("lock-status")
@_backend_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(TfmlError)
def state_lock_status(ctx: click.Context, /, as_json: bool, **kw: Any) -> None:
    """Show who holds the state lock (exit 0 either way)."""
    from tfml.state import lock_status

    backend = _backend(ctx, **kw)
    locks = lock_status(backend)
    if as_json:
        echo_json({"locked": bool(locks), "locks": [{"kind": x.kind, **x.info} for x in locks]})
        return
    if not locks:
        click.echo(f"{backend.lock_id}: unlocked")
    for lock in locks:
        click.echo(f"{backend.lock_id}: {lock.describe()}")


@state.command("unlock")
@_backend_options
@click.option("--lock-id", help="Only remove the lock with this ID.")
@click.pass_context
@expected_errors(TfmlError)
def state_unlock(ctx: click.Context, /, lock_id: str | None, **kw: Any) -> None:
    """Remove a stale lock a crashed run left behind."""
    from tfml.state import unlock

    for lock in unlock(_backend(ctx, **kw), lock_id):
        click.echo(f"removed {lock.describe()}")


# --------------------------------------------------------------------------- demo


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the demo's scratch directory.")
@click.pass_context
@expected_errors(TfmlError)
def demo(ctx: click.Context, keep: bool) -> None:
    """Lint, test, document and release a module, serve the registry, and have a consumer
    init + plan against moto on loopback."""
    from tfml.demo import run_demo

    settings = _settings(ctx)
    run_demo(settings, keep=keep, echo=click.echo)


