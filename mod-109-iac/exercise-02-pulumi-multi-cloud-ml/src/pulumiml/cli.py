"""Command line for pulumiml: parse, call the driver, render. No logic lives here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import (
    AppGroup,
    CLIError,
    ExitCode,
    echo_json,
    expected_errors,
    print_table,
    progress_bar,
)
from aiinfra_shared.io import atomic_write_text
from rich.console import Console

from pulumiml import __version__
from pulumiml.affected import affected_stacks, git_base_reader
from pulumiml.config import Settings
from pulumiml.driver import Driver, MockPreview, deploy_order, mock_preview
from pulumiml.errors import POLICY_VIOLATION, PulumimlError
from pulumiml.orchestrate import RunReport, StackRun
from pulumiml.project import Project
from pulumiml.report import markdown_report
from pulumiml.spec import StackName

EPILOG = """\b
Exit codes: 0 ok; 1 failure (drift found, an update failed); 2 usage (unknown stack, cloud,
env or layer); 3 config (bad spec value, missing or wrong passphrase); 4 not found (stack
not deployed); 5 unavailable (Pulumi CLI or policy pack missing); 6 conflict (reference
cycle); 7 a mandatory policy violation (nothing deployed); 70 internal.
"""

console = Console(stderr=True)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _select(project: Project, stacks: tuple[str, ...], all_: bool, clouds: tuple[str, ...],
            envs: tuple[str, ...], layers: tuple[str, ...], changed: tuple[str, ...] = (),
            base_ref: str | None = None) -> list[StackName]:
    if changed:
        base = git_base_reader(project.root.resolve().parent, base_ref) if base_ref else None
        chosen = affected_stacks(project, changed, base).stacks
        return [s for s in chosen if (not clouds or s.cloud.value in clouds)
                and (not envs or s.env.value in envs)]
    if stacks:
        return project.resolve(stacks)
    if all_ or clouds or envs or layers:
        return project.stacks(clouds, envs, layers)
    raise CLIError("choose stacks: --stack S (repeatable), --all, --cloud/--env/--layer, "
                   "or --changed FILE", ExitCode.USAGE)


def _read_list(path: Path | None) -> tuple[str, ...]:
    if path is None:
        return ()
    try:
        return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    except OSError as exc:
        raise CLIError(f"{path}: cannot read the change list ({exc.strerror})",
                       ExitCode.NOT_FOUND) from exc


def selection(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The stack selection options every multi-stack command takes."""
    options = [
        click.option("--stack", "-s", "stacks", multiple=True,
                     help="Stack <cloud>-<env>-<layer>, e.g. aws-dev-network (repeatable)."),
        click.option("--all", "all_", is_flag=True, help="Every stack of every stack file."),
        click.option("--cloud", "clouds", multiple=True, help="Only these clouds."),
        click.option("--env", "envs", multiple=True, help="Only these environments."),
        click.option("--layer", "layers", multiple=True, help="Only these layers."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group(cls=AppGroup, epilog=EPILOG)
@click.version_option(__version__, prog_name="pulumiml")
@click.option("--config", "config_file", type=click.Path(path_type=Path), envvar="PULUMIML_CONFIG",
              help="Settings file (YAML/TOML); PULUMIML_* variables override it.")
@click.option("--infra-dir", type=click.Path(path_type=Path), default=None,
              help="Directory with the Pulumi.<cloud>-<env>.yaml stack files [infra].")
@click.option("--engine", type=click.Choice(["emulated", "pulumi"]), default=None,
              help="Deployment engine [emulated; pulumi needs the Pulumi CLI].")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, infra_dir: Path | None,
        engine: str | None) -> None:
    """Multi-cloud ML platform on Pulumi: layer stacks per cloud and env, policy as code,
    an Automation API driver and multi-stack orchestration.

    \b
    Examples:
      pulumiml stacks --env dev
      pulumiml preview --mock --env dev             # no CLI: resource graph + policy report
      pulumiml preview --mock --changed infra/Pulumi.aws-dev.yaml --base-ref origin/main
      PULUMI_CONFIG_PASSPHRASE=... pulumiml up --all --env dev
      pulumiml up --stack aws-dev-network           # then updates stacks whose references changed
      pulumiml refresh --preview-only --all         # exit 1 when anything drifted
      pulumiml destroy --all --env dev --yes        # dependents first
      pulumiml outputs --stack aws-dev-serving --json
    """
    overrides: dict[str, Any] = {}
    if infra_dir is not None:
        overrides["infra_dir"] = infra_dir
    if engine is not None:
        overrides["engine"] = engine
    ctx.obj = Settings.load(config_file, **overrides)


main = cli


@cli.command()
@selection
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_context
@expected_errors(PulumimlError)
def stacks(ctx: click.Context, stacks: tuple[str, ...], all_: bool, clouds: tuple[str, ...],
           envs: tuple[str, ...], layers: tuple[str, ...], as_json: bool) -> None:
    """List stacks and their deploy order (levels run in parallel)."""
    project = Project(_settings(ctx).infra_dir)
    chosen = _select(project, stacks, all_ or not (stacks or clouds or envs or layers),
                     clouds, envs, layers)
    order = deploy_order(project, chosen)
    if as_json:
        echo_json({"order": [[str(s) for s in level] for level in order]})
        return
    for number, level in enumerate(order, start=1):
        click.echo(f"{number}. {' '.join(str(s) for s in level)}")


def _print_preview(preview: MockPreview) -> None:
    print_table("resource summary (mock preview)",
                ["stack", "resources", "components", "mandatory", "advisory"],
                [[r["stack"], r["resources"], r["components"], r["mandatory"], r["advisory"]]
                 for r in preview.summary()], console=Console())
    if preview.policy.diagnostics:
        print_table("policy report", ["stack", "policy", "level", "resource", "message"],
                    [[d.stack, d.policy, d.level, d.urn.rsplit("::", 1)[-1] or "(stack)",
                      d.message] for d in preview.policy.diagnostics], console=Console())
    else:
        click.echo(f"policy report: {preview.policy.evaluations} evaluations, no violations")
    click.echo("deploy order: " + " -> ".join(
        "[" + ", ".join(str(s) for s in level) + "]" for level in preview.order))


@cli.command()
@selection
@click.option("--changed", multiple=True, help="Only stacks these changed files affect.")
@click.option("--changed-list", type=click.Path(path_type=Path, dir_okay=False),
              help="A file listing changed files, one per line (git diff --name-only).")
@click.option("--base-ref", help="Git ref to compare changed stack files with (section-level).")
@click.option("--mock", is_flag=True, help="Run under pulumi mocks: no CLI, no backend.")
@click.option("--json", "as_json", is_flag=True, help="JSON result on stdout.")
@click.option("--graph-out", type=click.Path(path_type=Path),
              help="Write the resource graphs (types, names, inputs, parents, deps) as JSON.")
@click.option("--markdown", "markdown_out", type=click.Path(path_type=Path),
              help="Write the report as Markdown (the PR comment).")
@click.pass_context
@expected_errors(PulumimlError)
def preview(ctx: click.Context, stacks: tuple[str, ...], all_: bool, clouds: tuple[str, ...],
            envs: tuple[str, ...], layers: tuple[str, ...], changed: tuple[str, ...],
            changed_list: Path | None, base_ref: str | None, mock: bool, as_json: bool,
            graph_out: Path | None,
            markdown_out: Path | None) -> None:
    """Preview stacks; with --mock, locally under pulumi mocks with the policy pack.

    Exits 7 when a mandatory policy is violated.
    """
    settings = _settings(ctx)
    project = Project(settings.infra_dir)
    changed = changed + _read_list(changed_list)
    chosen: list[StackName] = []  # an empty change list previews nothing
    if changed or changed_list is None:
        chosen = _select(project, stacks, all_, clouds, envs, layers, changed, base_ref)
    if not mock:
        _run(ctx, "preview", chosen, as_json)
        return
    with progress_bar("mock preview", total=len(chosen)) as advance:
        result = mock_preview(project, chosen, progress=advance)
    if graph_out:
        atomic_write_text(graph_out, json.dumps(result.as_dict(graphs=True)["graphs"], indent=1))
    if markdown_out:
        atomic_write_text(markdown_out, markdown_report(result, changed))
    if as_json:
        echo_json(result.as_dict())
    else:
        _print_preview(result)
    if result.policy.mandatory:
        raise CLIError(f"{len(result.policy.mandatory)} mandatory policy violation(s)",
                       POLICY_VIOLATION)


def _render_run(report: RunReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.as_dict())
    failed = report.failed
    if failed:
        codes = {r.exit_code for r in failed}
        code = codes.pop() if len(codes) == 1 else ExitCode.FAILURE
        raise CLIError(f"{failed[0].stack}: {failed[0].error}"
                       + (f" (+{len(failed) - 1} more failed)" if len(failed) > 1 else ""), code)


def _run(ctx: click.Context, operation: str, chosen: list[StackName], as_json: bool,
         cascade: bool = True, preview_only: bool = True) -> RunReport:
    def stream(line: str) -> None:
        click.echo(line, err=True)

    def done(run: StackRun) -> None:
        extra = f" ({run.reason})" if run.reason else ""
        click.echo(f"{run.stack}: {run.status}{extra}" + (f": {run.error}" if run.error else ""),
                   err=True)

    driver = Driver(_settings(ctx), on_output=stream)
    try:
        report = driver.run(operation, chosen, cascade=cascade, preview_only=preview_only,
                            on_done=done)
    finally:
        driver.close()
    _render_run(report, as_json)
    return report


@cli.command()
@selection
@click.option("--cascade/--no-cascade", default=True, show_default=True,
              help="Also update deployed stacks whose references' outputs changed.")
@click.option("--json", "as_json", is_flag=True, help="JSON result on stdout.")
@click.pass_context
@expected_errors(PulumimlError)
def up(ctx: click.Context, stacks: tuple[str, ...], all_: bool, clouds: tuple[str, ...],
       envs: tuple[str, ...], layers: tuple[str, ...], cascade: bool, as_json: bool) -> None:
    """Deploy stacks in reference order (independent ones in parallel)."""
    project = Project(_settings(ctx).infra_dir)
    _run(ctx, "up", _select(project, stacks, all_, clouds, envs, layers), as_json, cascade)


@cli.command()
@selection
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="JSON result on stdout.")
@click.pass_context
@expected_errors(PulumimlError)
def destroy(ctx: click.Context, stacks: tuple[str, ...], all_: bool, clouds: tuple[str, ...],
            envs: tuple[str, ...], layers: tuple[str, ...], yes: bool, as_json: bool) -> None:
    """Destroy stacks, dependents first."""
    project = Project(_settings(ctx).infra_dir)
    chosen = _select(project, stacks, all_, clouds, envs, layers)
    if not yes and not click.confirm(f"destroy {len(chosen)} stack(s)?", err=True):
        raise CLIError("not confirmed (pass --yes)", ExitCode.USAGE)
    _run(ctx, "destroy", chosen, as_json)


@cli.command()
@selection
@click.option("--preview-only/--apply", default=True, show_default=True,
              help="Only report drift, or also write it into the state.")
@click.option("--json", "as_json", is_flag=True, help="JSON result on stdout.")
@click.pass_context
@expected_errors(PulumimlError)
def refresh(ctx: click.Context, stacks: tuple[str, ...], all_: bool, clouds: tuple[str, ...],
            envs: tuple[str, ...], layers: tuple[str, ...], preview_only: bool,
            as_json: bool) -> None:
    """Compare state with the cloud; exit 1 when anything drifted."""
    project = Project(_settings(ctx).infra_dir)
    report = _run(ctx, "refresh", _select(project, stacks, all_, clouds, envs, layers), as_json,
                  preview_only=preview_only)
    drifted = [r.stack for r in report.runs if r.result is not None and r.result.drift]
    if drifted:
        raise CLIError(f"drift in {len(drifted)} stack(s): {', '.join(drifted)}",
                       ExitCode.FAILURE)


@cli.command()
@click.option("--stack", "-s", "stack", required=True, help="Stack <cloud>-<env>-<layer>.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_context
@expected_errors(PulumimlError)
def outputs(ctx: click.Context, stack: str, as_json: bool) -> None:
    """A deployed stack's outputs."""
    settings = _settings(ctx)
    driver = Driver(settings)
    try:
        [name] = driver.project.resolve([stack])
        values = driver.outputs(name)
    finally:
        driver.close()
    if as_json:
        echo_json(values)
        return
    for key, value in sorted(values.items()):
        click.echo(f"{key}: {json.dumps(value)}")


@cli.command()
@click.argument("files", nargs=-1)
@click.option("--changed-list", type=click.Path(path_type=Path, dir_okay=False),
              help="A file listing changed files, one per line.")
@click.option("--base-ref", help="Git ref to compare stack files with (section-level).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_context
@expected_errors(PulumimlError)
def affected(ctx: click.Context, files: tuple[str, ...], changed_list: Path | None,
             base_ref: str | None, as_json: bool) -> None:
    """Stacks that changed FILES affect (what a PR previews)."""
    project = Project(_settings(ctx).infra_dir)
    files = files + _read_list(changed_list)
    base = git_base_reader(project.root.resolve().parent, base_ref) if base_ref else None
    result = affected_stacks(project, files, base)
    if as_json:
        echo_json(result.as_dict())
        return
    for stack in result.stacks:
        click.echo(f"{stack}\t{result.reasons[str(stack)]}")


@cli.command()
@click.pass_context
@expected_errors(PulumimlError)
def demo(ctx: click.Context) -> None:
    """What `make run` does: mock preview of every dev stack, policy report, deploy order."""
    project = Project(_settings(ctx).infra_dir)
    chosen = project.stacks(envs=["dev"])
    click.echo(f"mock preview of {len(chosen)} dev stacks ({', '.join(project.cloud_envs())} "
               "stack files) under pulumi mocks, policy pack over gRPC", err=True)
    with progress_bar("mock preview", total=len(chosen)) as advance:
        result = mock_preview(project, chosen, progress=advance)
    _print_preview(result)
