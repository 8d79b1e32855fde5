"""Command line for mlcicd: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd
import yaml
from aiinfra_shared.cli import AppGroup, echo_json, expected_errors, print_table
from aiinfra_shared.io import atomic_write_json, atomic_write_text
from rich.console import Console

from mlcicd import __version__
from mlcicd.config import Settings, load_settings
from mlcicd.errors import CheckFailedError, ConfigInvalidError, MlcicdError, NotFoundError

# CI runners (act, GitHub, GitLab) often hand steps a pseudo-terminal: no spinners in their logs
err_console = Console(stderr=True, force_terminal=False if os.environ.get("CI") else None)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


def _root(ctx: click.Context) -> Path:
    root: Path = ctx.obj["project"]
    if not (root / "dvc.yaml").exists():
        raise NotFoundError(f"{root} is not an mlcicd project (no dvc.yaml); "
                            "create one with `mlcicd init`")
    return root


@click.group(cls=AppGroup, epilog="""Examples:

\b
  mlcicd init demo && cd demo && dvc repro && git commit -am run
  mlcicd report --base main --out report.md
  mlcicd gate --base main
  mlcicd package --version 1.0.0
  mlcicd deploy --env staging --ref 1.0.0
  mlcicd rollback --env staging
""")
@click.version_option(__version__, prog_name="mlcicd")
@click.option("-C", "--project", type=click.Path(path_type=Path), default=Path(),
              show_default=True, help="The ML project (a folder with dvc.yaml).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Settings file (YAML/TOML); MLCICD_* environment variables win over it.")
@click.pass_context
def cli(ctx: click.Context, project: Path, config_file: Path | None) -> None:
    """CI/CD for ML repositories: DVC pipeline, data validation, report, gate, OCI packaging,
    blue/green deployment with automatic rollback."""
    ctx.ensure_object(dict)
    ctx.obj["project"] = project.resolve()
    ctx.obj["settings"] = load_settings(config_file)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--remote", "local_remote", type=click.Path(path_type=Path), default=None,
              help="Folder of the default DVC remote [DIRECTORY/../<name>.dvc-remote].")
@click.option("--s3-url", default=None, help="Second DVC remote on S3, e.g. s3://bucket/dvc.")
@click.option("--s3-endpoint", default=None, help="S3 endpoint (moto, MinIO) for --s3-url.")
@click.option("--lfs/--no-lfs", default=True, show_default=True,
              help="Track the binary request samples with Git LFS.")
@expected_errors(MlcicdError)
def init(directory: Path, local_remote: Path | None, s3_url: str | None,
         s3_endpoint: str | None, lfs: bool) -> None:
    """Create a template ML project under git and DVC (prepare -> validate -> train -> evaluate).

    \b
    Example: mlcicd init demo --s3-url s3://ml-data/dvc --s3-endpoint http://127.0.0.1:5001
    """
    from mlcicd.project import InitOptions, init_project

    directory = directory.resolve()
    remote = local_remote or directory.parent / f"{directory.name}.dvc-remote"
    with err_console.status("creating project (git, dvc init, dvc add)"):
        root = init_project(directory, InitOptions(remote, s3_url, s3_endpoint, lfs))
    click.echo(f"created {root}\nnext: cd {root.name} && dvc repro")


@cli.command("validate-data")
@click.argument("csv", type=click.Path(path_type=Path))
@click.option("--profile", type=click.Path(path_type=Path), required=True,
              help="Profile of the last accepted data version (JSON).")
@click.option("--params", "params_file", type=click.Path(path_type=Path), default=None,
              help="params.yaml with a `validate` section (thresholds).")
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="Write the metrics (valid, failures, max_psi...) here as JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option("--engine", type=click.Choice(["pandera", "ge"]), default="pandera",
              show_default=True,
              help="Run the checks as a pandera schema or a Great Expectations checkpoint.")
@expected_errors(MlcicdError)
def validate_data(csv: Path, profile: Path, params_file: Path | None, report: Path | None,
                  as_json: bool, engine: str) -> None:
    """Validate a data file (pandera schema or GE suite, class balance, shift); exit 1 on
    failure.

    \b
    Example: mlcicd validate-data data/prepared/train.csv --profile data/reference/profile.json
             mlcicd validate-data data/prepared/train.csv --profile ... --engine ge
    """
    if engine == "ge":  # great_expectations takes seconds to import: only on this path
        from mlcicd.ge_validation import validate_ge as validate
    else:
        from mlcicd.validation import validate

    for path in (csv, profile):
        if not path.exists():
            raise NotFoundError(f"{path} not found")
    thresholds: dict[str, Any] = {"min_minority_share": 0.2, "max_psi": 0.25}
    if params_file:
        thresholds.update((yaml.safe_load(params_file.read_text()) or {}).get("validate", {}))
    try:
        frame = pd.read_csv(csv)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CheckFailedError(f"{csv}: not a readable CSV ({type(exc).__name__})") from exc
    result = validate(frame, json.loads(profile.read_text()),
                      float(thresholds["min_minority_share"]), float(thresholds["max_psi"]))
    if report:
        atomic_write_json(report, result.metrics())
    if as_json:
        echo_json({**result.metrics(), "details": [f.as_dict() for f in result.failures]})
    elif result.failures:
        print_table(f"data validation failed ({engine}): {csv}",
                    ["column", "check", "rows failing", "row ids"],
                    [(f.column, f.check, f.count, ", ".join(map(str, f.rows)) or "-")
                     for f in result.failures], console=err_console)
    else:
        click.echo(f"data valid: {result.rows} rows, max PSI {result.metrics()['max_psi']}")
    if result.failures:
        columns = sorted({f.column for f in result.failures})
        raise CheckFailedError(f"data validation failed: {len(result.failures)} check(s) on "
                          f"{', '.join(columns[:6])}")


@cli.group()
def data() -> None:
    """Data versioning with DVC: pull, push, the current data hash."""


@data.command("pull")
@click.option("--remote", default=None, help="DVC remote name [the default remote].")
@click.pass_context
@expected_errors(MlcicdError)
def data_pull(ctx: click.Context, remote: str | None) -> None:
    """Fetch the data and cached outputs from the DVC remote."""
    from mlcicd.adapters.dvc import Dvc

    Dvc(_root(ctx)).pull(remote)
    click.echo("pulled")


@data.command("push")
@click.option("--remote", default=None, help="DVC remote name [the default remote].")
@click.pass_context
@expected_errors(MlcicdError)
def data_push(ctx: click.Context, remote: str | None) -> None:
    """Upload the data and cached outputs to the DVC remote."""
    from mlcicd.adapters.dvc import Dvc

    Dvc(_root(ctx)).push(remote)
    click.echo("pushed")


@data.command("hash")
@click.pass_context
@expected_errors(MlcicdError)
def data_hash_cmd(ctx: click.Context) -> None:
    """Print the md5 DVC recorded for the raw data (dvc.lock)."""
    from mlcicd.adapters.dvc import Dvc, data_hash

    click.echo(data_hash(Dvc(_root(ctx)).lock()))


@cli.command()
@click.option("--base", required=True, help="Branch, tag or commit to compare against.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the markdown here.")
@click.option("--post", is_flag=True, help="Create or update the pull request's report comment.")
@click.option("--repo", default=None, help="owner/name on GitHub (with --post).")
@click.option("--pr", type=int, default=None, help="Pull request number (with --post).")
@click.pass_context
@expected_errors(MlcicdError)
def report(ctx: click.Context, base: str, out: Path | None, post: bool, repo: str | None,
           pr: int | None) -> None:
    """CML-style markdown report: metrics, params, data and plots vs BASE.

    \b
    Example: mlcicd report --base main --post --repo acme/model --pr 7
    Posting uses GITHUB_TOKEN and MLCICD_GITHUB_API_URL (default https://api.github.com).
    """
    from mlcicd.adapters.github import upsert_comment
    from mlcicd.compare import collect_diffs
    from mlcicd.report import MARKER, render

    root = _root(ctx)
    settings = _settings(ctx)
    if post and (not repo or not pr):
        raise ConfigInvalidError("--post needs --repo owner/name and --pr NUMBER")
    with err_console.status(f"dvc diffs against {base}"):
        diffs = collect_diffs(root, base, settings.command_timeout_s)
    body = render(diffs.base, diffs.base_sha, diffs.head_sha, diffs.metrics, diffs.params,
                  diffs.data, diffs.plots)
    if out:
        atomic_write_text(out if out.is_absolute() else root / out, body)
    if post:
        assert repo is not None and pr is not None
        action, comment_id = upsert_comment(settings.github_api_url, os.environ.get("GITHUB_TOKEN"),
                                            repo, pr, body, MARKER)
        click.echo(f"report comment {comment_id} {action}")
    elif not out:
        click.echo(body)


@cli.command()
@click.option("--base", required=True, help="Branch, tag or commit to compare against.")
@click.option("--rules", "rules_file", type=click.Path(path_type=Path), default=None,
              help="Gate rules [PROJECT/gate.yaml].")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(MlcicdError)
def gate(ctx: click.Context, base: str, rules_file: Path | None, as_json: bool) -> None:
    """Pass or fail the candidate: per-metric rules plus a paired bootstrap; exit 1 on failure.

    \b
    Example: mlcicd gate --base main --rules gate.yaml
    """
    from mlcicd.compare import load_gate_config, run_gate

    root = _root(ctx)
    config = load_gate_config(rules_file or root / "gate.yaml")
    base_sha, result = run_gate(root, base, config)
    rows = [(d.metric, _f(d.base), _f(d.candidate), _f(d.delta, signed=True),
             "pass" if d.passed else "FAIL", d.reason) for d in result.decisions]
    if as_json:
        echo_json({"passed": result.passed, "base": base_sha, "decisions": [
            {"metric": d.metric, "base": d.base, "candidate": d.candidate, "passed": d.passed,
             "reason": d.reason, "p_value": d.p_value} for d in result.decisions]})
    else:
        print_table(f"gate vs {base} ({base_sha[:8]})",
                    ["metric", "base", "candidate", "change", "result", "why"], rows)
    if not result.passed:
        failed = [d.metric for d in result.decisions if not d.passed]
        raise CheckFailedError(f"gate failed on {', '.join(failed)}")


def _f(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


@cli.command()
@click.option("--manifests/--no-manifests", default=True, show_default=True,
              help="Also render the kustomize overlays and validate them.")
@click.pass_context
@expected_errors(MlcicdError)
def check(ctx: click.Context, manifests: bool) -> None:
    """Lint the CI/CD definitions: actionlint, workflow/GitLab schemas, kustomize overlays."""
    from mlcicd.checks import run_checks

    results = run_checks(_root(ctx), manifests)
    print_table("CI/CD checks", ["check", "result", "detail"],
                [(r.name, "ok" if r.passed else "FAIL", r.detail) for r in results])
    failed = [r for r in results if not r.passed]
    if failed:
        raise ConfigInvalidError(f"invalid CI/CD config: {failed[0].name}: {failed[0].detail}")


def _registry(settings: Settings) -> Any:
    from mlcicd.adapters.registry import Registry

    return Registry(settings.registry, settings.insecure_registry)


@cli.command()
@click.option("--version", "version", required=True, help="Version tag, e.g. 1.0.3.")
@click.option("--print-ref", is_flag=True, help="Print only the pushed reference (for CI outputs).")
@click.option("--allow-dirty", is_flag=True, help="Package even with uncommitted changes.")
@click.pass_context
@expected_errors(MlcicdError)
def package(ctx: click.Context, version: str, print_ref: bool, allow_dirty: bool) -> None:
    """Push the model as an OCI artifact tagged by git sha and VERSION (annotated).

    \b
    Example: MLCICD_REGISTRY=127.0.0.1:5000 mlcicd package --version 1.0.0
    """
    from mlcicd.packaging import package as do_package

    settings = _settings(ctx)
    pushed = do_package(_root(ctx), _registry(settings), settings.repository, version,
                        require_clean=not allow_dirty)
    if print_ref:
        click.echo(pushed.version_ref)
    else:
        click.echo(f"pushed {pushed.ref} and {pushed.version_ref} ({pushed.digest})")


def _env(ctx: click.Context, name: str) -> Any:
    from mlcicd.deploy import Environment

    settings = _settings(ctx)
    state = settings.state_dir if settings.state_dir.is_absolute() else \
        ctx.obj["project"] / settings.state_dir
    return Environment(state, name)


def _options(settings: Settings) -> Any:
    from mlcicd.deploy import DeployOptions

    return DeployOptions(settings.smoke_latency_budget_ms, settings.smoke_requests,
                         settings.server_start_timeout_s)


ENV_OPTION = click.option("--env", "env_name", type=click.Choice(["staging", "prod"]),
                          required=True, help="Target environment.")


@cli.command()
@ENV_OPTION
@click.option("--ref", required=True, help="Artifact: a tag (1.0.3, git sha) or host/repo:tag.")
@click.pass_context
@expected_errors(MlcicdError)
def deploy(ctx: click.Context, env_name: str, ref: str) -> None:
    """Blue/green deploy: pull, start, smoke-test, switch; roll back by itself on failure.

    \b
    Example: mlcicd deploy --env staging --ref 1.0.0
    """
    from mlcicd.deploy import deploy as do_deploy
    from mlcicd.deploy import resolve_ref

    settings = _settings(ctx)
    target = resolve_ref(ref, settings.registry, settings.repository)
    with err_console.status(f"deploying {target} to {env_name}"):
        live = do_deploy(_env(ctx, env_name), _registry(settings), target, _options(settings))
    click.echo(f"{env_name}: {live['version']} live on {live['url']} (slot {live['slot']})")


@cli.command()
@ENV_OPTION
@click.pass_context
@expected_errors(MlcicdError)
def rollback(ctx: click.Context, env_name: str) -> None:
    """Switch back to the previous deployment (kept running as the standby)."""
    from mlcicd.deploy import rollback as do_rollback

    live = do_rollback(_env(ctx, env_name), _options(_settings(ctx)))
    click.echo(f"{env_name}: rolled back to {live['version']} on {live['url']}")


@cli.command()
@ENV_OPTION
@click.pass_context
@expected_errors(MlcicdError)
def smoke(ctx: click.Context, env_name: str) -> None:
    """Smoke-test the live deployment (health, golden set, latency); exit 1 on failure."""
    from mlcicd.deploy import smoke_live

    result = smoke_live(_env(ctx, env_name), _options(_settings(ctx)))
    print_table(f"smoke test: {env_name}", ["check", "result"], result.checks.items())
    if not result.passed:
        raise CheckFailedError(f"smoke test failed: {result.reason}")


@cli.command()
@ENV_OPTION
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(MlcicdError)
def status(ctx: click.Context, env_name: str, as_json: bool) -> None:
    """What serves now, what stands by, and the deployment history."""
    from mlcicd.adapters.server import alive

    env = _env(ctx, env_name)
    live, standby, history = env.live, env.standby, env.history()
    if as_json:
        echo_json({"environment": env_name, "live": live, "standby": standby, "history": history})
        return
    rows = [(role, p["version"], p["revision"][:8], p["url"],
             "up" if alive(p.get("pid")) else "down")
            for role, p in (("live", live), ("standby", standby)) if p]
    print_table(f"{env_name}", ["role", "version", "revision", "url", "process"], rows)
    print_table("history", ["at", "event", "version", "result", "reason"],
                [(e["at"], e["event"], e.get("version", "-"), e.get("result", ""),
                  e.get("reason", "")) for e in history])


@cli.command()
@ENV_OPTION
@click.pass_context
@expected_errors(MlcicdError)
def stop(ctx: click.Context, env_name: str) -> None:
    """Stop the environment's servers (pointers and history stay)."""
    from mlcicd.deploy import stop_all

    click.echo(f"{env_name}: {stop_all(_env(ctx, env_name))} server(s) stopped")


main = cli

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
