"""Command line for cloudml: parse, call the operations, render. No logic lives here."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, expected_errors

from cloudml import __version__
from cloudml.config import Settings
from cloudml.cost import CostReport
from cloudml.errors import CloudMLError, UsageError
from cloudml.layout import CLOUDS, ENVS, Target, parse_target
from cloudml.operations import Platform
from cloudml.plan_summary import render
from cloudml.safety import confirmation_phrase

F = TypeVar("F", bound=Callable[..., Any])
EXIT_DRIFT = 1


# Expected errors -> one line on stderr with the error class's exit code.
handled = expected_errors(CloudMLError)


def _platform(ctx: click.Context) -> Platform:
    platform: Platform = ctx.find_root().obj
    return platform


def _variables(pairs: Iterable[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var expects NAME=VALUE, got {pair!r}")
        variables[name.strip()] = value
    return variables


def target_options(fn: F) -> F:
    """--cloud and --env (free text, validated by the core into a one-line error)."""
    fn = click.option("--env", "env", required=True, metavar="|".join(ENVS),
                      help="Environment.")(fn)
    return click.option("--cloud", "cloud", required=True, metavar="|".join(CLOUDS),
                        help="Cloud.")(fn)


def var_option(fn: F) -> F:
    return click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
                        help="Override a variable (repeatable), e.g. enable_budget=false.")(fn)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(fn)


def _echo_cost(report: CostReport, change: dict[str, Any] | None = None) -> None:
    click.echo(f"monthly cost ({report.currency}, prices as of {report.as_of}): "
               f"{report.total:,.2f}")
    for line in sorted(report.lines, key=lambda item: -item.monthly):
        click.echo(f"  {line.monthly:>10,.2f}  {line.address}  [{line.detail}]")
    if report.usage_based:
        click.echo(f"  usage-based, not priced: {len(report.usage_based)} resource(s)")
    for item in report.unpriced:
        click.echo(f"  UNPRICED {item}")
    if change is not None:
        if change["previous_total"] is None:
            click.echo("  change: first apply of this env (no previous cost)")
        else:
            click.echo(f"  change vs last applied: {change['total_delta']:+,.2f} "
                       f"(was {change['previous_total']:,.2f})")
            for address, amount in change["by_resource"].items():
                click.echo(f"    {amount:+10,.2f}  {address}")


def _confirm(target: Target, confirm: str | None, allow_destroy: bool,
             destroys: int) -> str | None:
    """The typed confirmation: --confirm, else a prompt on a terminal (prod deletes only)."""
    if confirm is not None or not (target.is_prod and allow_destroy and destroys):
        return confirm
    if not sys.stdin.isatty():
        return None
    value: str = click.prompt(f"type {confirmation_phrase(target)!r} to continue",
                              default="", show_default=False)
    return value


@click.group(cls=AppGroup, epilog="""\b
Examples:
  cloudml state bootstrap                       # versioned, encrypted state bucket
  cloudml plan --cloud aws --env dev            # saved plan + summary + cost
  cloudml apply --cloud aws --env dev           # applies only that saved, fresh plan
  cloudml output --cloud aws --env dev --json
  cloudml drift --cloud aws --env dev           # exit 1 and a report when drifted
  cloudml cost --cloud aws --env prod --budget 3000
  cloudml destroy --cloud aws --env prod --allow-destroy --confirm "destroy aws-prod"
  cloudml state rollback --cloud aws --env dev --yes
  cloudml state unlock --cloud aws --env dev
  cloudml demo                                  # everything above on a local moto server""")
@click.version_option(__version__, prog_name="cloudml")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              envvar="CLOUDML_CONFIG", help="Settings file (YAML/TOML); CLOUDML_* env wins.")
@click.option("--terraform-dir", type=click.Path(path_type=Path), default=None,
              help="Folder with modules/ and envs/ (CLOUDML_TERRAFORM_DIR).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, terraform_dir: Path | None) -> None:
    """Cloud ML infrastructure: one ML platform per cloud and env, deployed with Terraform
    and operated safely (plan review, fresh-plan applies, drift, rollback, cost).

    Exit codes: 0 ok, 1 failure (drift found, over budget, terraform failed), 2 usage
    (unknown cloud/env, prod delete not confirmed), 3 config (invalid variable, bad price
    table), 4 not found (no root/tfvars/saved plan/state version), 5 unavailable (terraform,
    provider or S3 missing), 6 conflict (held lock, stale plan), 70 internal.
    """
    overrides: dict[str, Any] = {"terraform_dir": terraform_dir} if terraform_dir else {}
    ctx.obj = Platform(Settings.load(config_file, **overrides))


main = cli


@cli.command()
@target_options
@var_option
@click.option("--destroy", is_flag=True, help="Plan the deletion of the whole env.")
@json_option
@click.pass_context
@handled
def plan(ctx: click.Context, cloud: str, env: str, variables: tuple[str, ...], destroy: bool,
         as_json: bool) -> None:
    """Plan a target into a saved plan; print the summary (critical deletes flagged) and cost.

    \b
    Example: cloudml plan --cloud aws --env dev --var enable_budget=false
    """
    target = parse_target(cloud, env)
    outcome = _platform(ctx).plan(target, _variables(variables), destroy=destroy)
    if as_json:
        echo_json({"target": target.label, "plan_file": str(outcome.plan_file),
                   "summary": outcome.summary.as_dict(), "record": outcome.record.as_dict(),
                   "cost": outcome.cost.as_dict()})
        return
    for line in render(outcome.summary, target.label):
        click.echo(line)
    _echo_cost(outcome.cost)
    click.echo(f"saved plan: {outcome.plan_file} (apply with `cloudml apply --cloud "
               f"{target.cloud} --env {target.env}`)")


@cli.command()
@target_options
@click.option("--allow-destroy", is_flag=True, help="Allow a prod plan that deletes things.")
@click.option("--confirm", default=None, metavar="TEXT",
              help='The typed confirmation for prod deletes: "destroy <cloud>-prod".')
@json_option
@click.pass_context
@handled
def apply(ctx: click.Context, cloud: str, env: str, allow_destroy: bool, confirm: str | None,
          as_json: bool) -> None:
    """Apply the saved plan of a target, only if it is fresh (age, configuration, state).

    \b
    Example: cloudml apply --cloud aws --env dev
    """
    target = parse_target(cloud, env)
    platform = _platform(ctx)
    record = platform.saved_record(target)
    confirmation = _confirm(target, confirm, allow_destroy, record.destroys)
    outcome = platform.apply(target, allow_destroy=allow_destroy, confirmation=confirmation)
    if as_json:
        echo_json({"target": target.label, "seconds": round(outcome.seconds, 2),
                   "cost": outcome.cost.as_dict()})
        return
    click.echo(f"applied {target.label} in {outcome.seconds:.1f}s; monthly cost now "
               f"{outcome.cost.total:,.2f} {outcome.cost.currency}")


@cli.command()
@target_options
@var_option
@click.option("--allow-destroy", is_flag=True, help="Required in prod.")
@click.option("--confirm", default=None, metavar="TEXT",
              help='Prod only: the typed confirmation "destroy <cloud>-prod".')
@click.pass_context
@handled
def destroy(ctx: click.Context, cloud: str, env: str, variables: tuple[str, ...],
            allow_destroy: bool, confirm: str | None) -> None:
    """Plan and apply the deletion of a whole env (prod: --allow-destroy and --confirm).

    \b
    Example: cloudml destroy --cloud aws --env dev --var enable_budget=false
    """
    target = parse_target(cloud, env)
    if target.is_prod and not allow_destroy:
        raise CLIError(f"destroying {target.label} needs --allow-destroy (nothing was "
                       "planned or applied)", ExitCode.USAGE)
    confirmation = _confirm(target, confirm, allow_destroy, 1)
    planned, applied = _platform(ctx).destroy(target, _variables(variables),
                                              allow_destroy=allow_destroy,
                                              confirmation=confirmation)
    click.echo(f"destroyed {target.label}: {planned.summary.destroys} resource(s) in "
               f"{applied.seconds:.1f}s")


@cli.command()
@target_options
@json_option
@click.pass_context
@handled
def output(ctx: click.Context, cloud: str, env: str, as_json: bool) -> None:
    """Print the outputs of a target (artifact_bucket, registry_url, serving_endpoint...)."""
    target = parse_target(cloud, env)
    values = _platform(ctx).outputs(target)
    if as_json:
        echo_json(values)
        return
    for name, value in values.items():
        click.echo(f"{name} = {value}")


@cli.command()
@target_options
@var_option
@json_option
@click.pass_context
@handled
def drift(ctx: click.Context, cloud: str, env: str, variables: tuple[str, ...],
          as_json: bool) -> None:
    """Detect changes made outside Terraform (exit 0 none, 1 drift found).

    \b
    Example: cloudml drift --cloud aws --env prod --json
    """
    target = parse_target(cloud, env)
    report = _platform(ctx).drift(target, _variables(variables))
    if as_json:
        echo_json({"target": target.label, **report.as_dict()})
    elif not report.has_drift:
        click.echo(f"{target.label}: no drift")
    else:
        click.echo(f"{target.label}: {len(report.drifted)} resource(s) drifted")
        for item in report.drifted:
            attrs = ", ".join(item.attributes) or "-"
            click.echo(f"  {item.action:7} {item.address}: {attrs}")
    if report.has_drift:
        ctx.exit(EXIT_DRIFT)


@cli.command()
@target_options
@click.option("--plan-file", type=click.Path(path_type=Path), default=None,
              help="A `terraform show -json` plan (default: the target's saved plan).")
@click.option("--budget", type=float, default=None, help="Fail (exit 1) above this monthly total.")
@json_option
@click.pass_context
@handled
def cost(ctx: click.Context, cloud: str, env: str, plan_file: Path | None,
         budget: float | None, as_json: bool) -> None:
    """Price a plan from the dated price table; delta vs the last applied plan; budget gate.

    \b
    Example: cloudml cost --cloud aws --env prod --budget 3000
    """
    target = parse_target(cloud, env)
    report, change = _platform(ctx).cost(target, plan_file)
    over = budget is not None and report.total > budget
    if as_json:
        echo_json({"target": target.label, **report.as_dict(), "delta": change,
                   "budget": budget, "over_budget": over})
    else:
        _echo_cost(report, change)
    if over:
        raise CLIError(f"{target.label} costs {report.total:,.2f} {report.currency}/month, "
                       f"over the budget of {budget:,.2f}", ExitCode.FAILURE)


@cli.group()
def state() -> None:
    """The state bucket: bootstrap, versions, rollback, locks."""


@state.command("bootstrap")
@json_option
@click.pass_context
@handled
def state_bootstrap(ctx: click.Context, as_json: bool) -> None:
    """Create the versioned, encrypted, private state bucket (idempotent)."""
    result = _platform(ctx).bootstrap()
    if as_json:
        echo_json(result.__dict__)
        return
    verb = "created" if result.created else "already existed; settings enforced:"
    click.echo(f"state bucket {result.bucket} {verb} versioning={result.versioning} "
               f"encryption={result.encryption} public-access-blocked="
               f"{result.public_access_blocked}")


@state.command("versions")
@target_options
@json_option
@click.pass_context
@handled
def state_versions(ctx: click.Context, cloud: str, env: str, as_json: bool) -> None:
    """List the versions of a target's state, newest first."""
    versions = _platform(ctx).versions(parse_target(cloud, env))
    rows = [{"version_id": v.version_id, "last_modified": v.last_modified.isoformat(),
             "size": v.size, "current": v.is_latest} for v in versions]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        mark = "*" if row["current"] else " "
        click.echo(f"{mark} {row['version_id']}  {row['last_modified']}  {row['size']} B")


@state.command("rollback")
@target_options
@click.option("--version-id", default=None, help="Version to restore (default: the previous).")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_context
@handled
def state_rollback(ctx: click.Context, cloud: str, env: str, version_id: str | None,
                   yes: bool) -> None:
    """Make an older state version current again (runbook: roll back a bad apply)."""
    target = parse_target(cloud, env)
    if not yes and not click.confirm(f"restore an older state of {target.label}?"):
        raise CLIError("rollback cancelled", ExitCode.FAILURE)
    chosen, new_id = _platform(ctx).rollback(target, version_id)
    click.echo(f"restored {target.label} state version {chosen.version_id} "
               f"({chosen.last_modified.isoformat()}) as {new_id}; now plan and apply the "
               "configuration that matched it")


@state.command("lock")
@target_options
@json_option
@click.pass_context
@handled
def state_lock(ctx: click.Context, cloud: str, env: str, as_json: bool) -> None:
    """Show who holds a target's state lock, if anyone."""
    info = _platform(ctx).lock(parse_target(cloud, env))
    if as_json:
        echo_json(None if info is None else {**info.__dict__,
                                             "created": info.created.isoformat()})
    elif info is None:
        click.echo("not locked")
    else:
        click.echo(f"locked: {info.id} {info.operation} by {info.who} since "
                   f"{info.created.isoformat()}")


@state.command("unlock")
@target_options
@click.option("--lock-id", default=None, help="Only release this lock id.")
@click.option("--force", is_flag=True, help="Release even a recent lock.")
@click.pass_context
@handled
def state_unlock(ctx: click.Context, cloud: str, env: str, lock_id: str | None,
                 force: bool) -> None:
    """Release a stuck lock (only one older than lock_stale_after_minutes, unless --force)."""
    info = _platform(ctx).unlock(parse_target(cloud, env), force=force, lock_id=lock_id)
    click.echo(f"released lock {info.id} ({info.operation} by {info.who})")


@cli.command()
@click.pass_context
@handled
def demo(ctx: click.Context) -> None:
    """Bootstrap state on a local moto server, plan and apply AWS dev, print the summary,
    outputs and cost, check drift, then destroy it (what `make run` does)."""
    from cloudml.demo import run_demo

    run_demo(_platform(ctx).settings, click.echo)
