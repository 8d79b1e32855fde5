"""Command line for imgopt: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, expected_errors, print_table
from aiinfra_shared.config import read_config_file
from aiinfra_shared.io import atomic_write_text
from rich.console import Console

from imgopt import __version__
from imgopt.config import Settings
from imgopt.errors import ImgoptError

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def _errors() -> expected_errors:
    """Expected failures become one line and their documented exit code."""
    return expected_errors(ImgoptError)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    print_table(title, columns, rows, console)


@click.group(cls=AppGroup, epilog="""\b
Examples:
  imgopt analyze image.tar                     # docker-archive
  imgopt analyze oci:build/oci:latest --html report.html --markdown pr.md
  imgopt analyze 127.0.0.1:5000/team/app:1.0 --ci --ci-config .dive-ci
  imgopt lint Dockerfile --context .
  imgopt fix Dockerfile --check                # exit 1 when it would change
  imgopt fix Dockerfile --write
  imgopt compare Dockerfile Dockerfile.optimized --smoke "/app/healthcheck"
  imgopt minify oci:build/oci:latest --probe "/app/run --selftest" --output slim/
  imgopt demo                                  # the sample app, end to end""")
@click.version_option(__version__, prog_name="imgopt")
@click.option("--config", "config_file", type=click.Path(path_type=Path), envvar="IMGOPT_CONFIG",
              help="Settings file (YAML/TOML); IMGOPT_* env vars override it.")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Image Optimizer: find where image bytes and build seconds go, fix the Dockerfile,
    and prove it by building before and after (buildah, daemonless).

    Exit codes: 0 ok, 1 failure (CI rule failed, fix --check would change, build or probe
    failed), 2 usage, 3 bad input (not an image, Dockerfile parse error, CI config),
    4 not found, 5 tool missing, 70 internal.
    """
    ctx.obj = Settings.load(config_file)


main = cli


# ------------------------------------------------------------------ analyze


@cli.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
@click.option("--html", "html_file", type=click.Path(path_type=Path), help="Write an HTML report.")
@click.option("--markdown", "md_file", type=click.Path(path_type=Path),
              help="Write a markdown report (PR comment).")
@click.option("--ci", is_flag=True, help="Evaluate CI rules; exit 1 when one fails.")
@click.option("--ci-config", type=click.Path(path_type=Path), help="A .dive-ci rules file.")
@click.option("--max-size", help="CI rule maxSize (e.g. 50MB).")
@click.option("--max-layers", type=int, help="CI rule maxLayers.")
@click.option("--dockerfile", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The Dockerfile that built the image: ties waste to its lines.")
@click.pass_context
def analyze(ctx: click.Context, source: str, as_json: bool, html_file: Path | None,
            md_file: Path | None, ci: bool, ci_config: Path | None, max_size: str | None,
            max_layers: int | None, dockerfile: Path | None) -> None:
    """Layer analysis of SOURCE: a docker-archive, an OCI layout (DIR or oci:DIR:TAG) or a
    registry reference (host:port/repo:tag). dive's metrics next to reclaimable bytes, and
    every wasted byte explained.

    \b
    Example: imgopt analyze image.tar --ci --max-layers 8
    """
    from imgopt import cirules, recommend, report, rules, sources
    from imgopt.dockerfile_model import parse
    from imgopt.layers import analyse

    settings = _settings(ctx)
    with _errors():
        loaded = None  # CI rules are read first: a bad config fails before any work
        if ci or ci_config or max_size or max_layers is not None:
            path = ci_config or settings.ci_config
            loaded = cirules.load_rules(read_config_file(path) if path else None)
            if max_size:
                loaded["maxSize"] = max_size
            if max_layers is not None:
                loaded["maxLayers"] = max_layers
        df = parse(dockerfile.read_text(), str(dockerfile)) if dockerfile else None
        image = sources.load(source, settings.work_dir, settings.insecure_registries)
        analysis = analyse(image)
        findings = rules.lint(df, _context_for(dockerfile, None)) if df and dockerfile else []
        recs = recommend.rank(findings, df, analysis, image.config)
        results = cirules.evaluate(analysis, loaded) if loaded is not None else None
    if html_file:
        atomic_write_text(html_file, report.to_html(analysis, recs, results))
    if md_file:
        atomic_write_text(md_file, report.to_markdown(analysis, recs, results))
    if as_json:
        echo_json(report.to_document(analysis, recs, results))
    else:
        _print_analysis(analysis, recs, results)
    if results and any(r.status == "FAIL" for r in results):
        raise CLIError("CI rules failed: " + ", ".join(r.rule for r in results
                                                       if r.status == "FAIL"), ExitCode.FAILURE)


def _print_analysis(analysis: Any, recs: list[Any], results: list[Any] | None) -> None:
    from imgopt.report import human

    dive = analysis.dive
    console.print(f"[bold]{analysis.source}[/bold]: {human(dive.size_bytes)} in "
                  f"{len(analysis.layers)} layers")
    console.print(f"dive: efficiency {dive.efficiency:.2%}, wastedBytes {dive.wasted_bytes}, "
                  f"userWastedPercent {dive.user_wasted_percent:.2%}")
    console.print(f"reclaimable {analysis.reclaimable_bytes} bytes (hidden copies), caches "
                  f"{analysis.cache_bytes} bytes")
    _table("layers", ["#", "size", "files", "whiteouts", "dups", "created by"],
           [[s.index, human(s.size), s.files, s.whiteouts, s.duplicates, s.created_by[:70]]
            for s in analysis.layers])
    if analysis.waste:
        _table("wasted bytes", ["path", "bytes", "why", "written by", "hidden by"],
               [["/" + w.path, w.size, f"{w.reason} {w.detail}".strip(), w.layer,
                 "-" if w.by_layer is None else w.by_layer] for w in analysis.waste[:25]])
    for number, rec in enumerate(recs, 1):
        console.print(f"{number}. [{rec.source}] {rec.title} -> {human(rec.bytes_saved)}, "
                      f"{rec.seconds_saved:.1f} s")
    for result in results or []:
        console.print(f"{result.status}: {result.rule}: {result.message}")


# ------------------------------------------------------------------ lint / fix


def _context_for(dockerfile: Path, context: Path | None) -> Any:
    from imgopt.context import measure

    return measure(context if context is not None else dockerfile.parent)


@cli.command()
@click.argument("dockerfile", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context", type=click.Path(path_type=Path),
              help="Build context (default: the Dockerfile's directory).")
@click.option("--hadolint/--no-hadolint", default=None, help="Also run hadolint (default on).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def lint(ctx: click.Context, dockerfile: Path, context: Path | None, hadolint: bool | None,
         as_json: bool) -> None:
    """Dockerfile analysis: imgopt's rules (IMG001-IMG007) with line numbers, plus hadolint.

    \b
    Example: imgopt lint Dockerfile --context . --json
    """
    from imgopt.adapters.hadolint import run_hadolint
    from imgopt.dockerfile_model import parse
    from imgopt.errors import InputNotFoundError
    from imgopt.rules import lint as run_rules

    settings = _settings(ctx)
    with _errors():
        if not dockerfile.is_file():
            raise InputNotFoundError(f"{dockerfile}: no such Dockerfile")
        text = dockerfile.read_text()
        df = parse(text, str(dockerfile))
        findings = run_rules(df, _context_for(dockerfile, context))
        external = run_hadolint(text) if (settings.hadolint if hadolint is None
                                          else hadolint) else []
    if as_json:
        echo_json({"findings": [{**asdict(f), "name": f.name} for f in findings],
                   "hadolint": [asdict(h) for h in external]})
        return
    for finding in findings:
        console.print(f"{dockerfile}:{finding.line} {finding.rule} {finding.name}: "
                      f"{finding.message}", markup=False)
    for item in external:
        console.print(f"{dockerfile}:{item.line} {item.code} ({item.level}): {item.message}",
                      markup=False)
    if not findings and not external:
        console.print("no findings")


@cli.command()
@click.argument("dockerfile", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context", type=click.Path(path_type=Path),
              help="Build context (default: the Dockerfile's directory).")
@click.option("--write", is_flag=True, help="Apply the rewrites to DOCKERFILE (atomically).")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when fix would rewrite.")
@click.option("--output", type=click.Path(path_type=Path), help="Write the result here instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (diff, rewrites).")
def fix(dockerfile: Path, context: Path | None, write: bool, check: bool, output: Path | None,
        as_json: bool) -> None:
    """Rewrite DOCKERFILE: merge RUNs with their cleanup, dependency files before the source,
    COPY --chmod/--chown instead of chmod/chown layers. Prints a unified diff and every
    rewrite; without --write nothing is changed.

    \b
    Example: imgopt fix Dockerfile --check || imgopt fix Dockerfile --write
    """
    from imgopt.dockerfile_model import parse
    from imgopt.errors import InputNotFoundError
    from imgopt.fix import fix as run_fix
    from imgopt.rules import lint as run_rules

    if write and check:
        raise CLIError("--write and --check exclude each other", ExitCode.USAGE)
    with _errors():
        if not dockerfile.is_file():
            raise InputNotFoundError(f"{dockerfile}: no such Dockerfile")
        stats = _context_for(dockerfile, context)
        result = run_fix(dockerfile.read_text(), stats, str(dockerfile))
        remaining = run_rules(parse(result.fixed, str(dockerfile)), stats)
    if as_json:
        echo_json({"changed": result.changed, "diff": result.diff(dockerfile.name),
                   "rewrites": [asdict(r) for r in result.rewrites],
                   "left_alone": [{**asdict(f), "name": f.name} for f in remaining]})
    else:
        click.echo(result.diff(dockerfile.name), nl=False)
        for rewrite in result.rewrites:
            click.echo(f"rewrote {rewrite.rule}: {rewrite.description}")
        for finding in remaining:
            click.echo(f"left alone {finding.rule} line {finding.line}: {finding.message}")
        if not result.changed:
            click.echo("nothing to rewrite")
    if check:
        if result.changed:
            raise CLIError(f"{dockerfile}: fix would rewrite it ({len(result.rewrites)} "
                           "rewrites)", ExitCode.FAILURE)
        return
    if write and result.changed:
        atomic_write_text(dockerfile, result.fixed)
    if output is not None:
        atomic_write_text(output, result.fixed)


# ------------------------------------------------------------------ compare / minify


@cli.command()
@click.argument("before", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("after", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context", type=click.Path(path_type=Path),
              help="Build context of BEFORE (default: its directory).")
@click.option("--context-after", type=click.Path(path_type=Path),
              help="Build context of AFTER (default: its directory).")
@click.option("--smoke", help="Smoke command run with /bin/sh -c in both (default: CMD).")
@click.option("--touch", help="Context file changed for the rebuild (default: newest text file).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def compare(ctx: click.Context, before: Path, after: Path, context: Path | None,
            context_after: Path | None, smoke: str | None, touch: str | None,
            as_json: bool) -> None:
    """Build BEFORE and AFTER with buildah (--layers, private storage) and compare size,
    layers, efficiency, cold build, rebuild after a source-only change, and a smoke command.

    \b
    Example: imgopt compare Dockerfile Dockerfile.optimized --smoke "/app/check"
    """
    settings = _settings(ctx)
    with _errors():
        sides = _run_compare(settings, before, after, context, context_after, smoke, touch)
    _render_compare(sides, as_json)


def _run_compare(settings: Settings, before: Path, after: Path, context: Path | None,
                 context_after: Path | None, smoke: str | None, touch: str | None) -> Any:
    from imgopt.compare import compare as run_compare
    from imgopt.dockerfile_model import parse
    from imgopt.errors import InputNotFoundError

    for path in (before, after):
        if not path.is_file():
            raise InputNotFoundError(f"{path}: no such Dockerfile")
        parse(path.read_text(), str(path))
    work = settings.work_dir / "compare"
    shutil.rmtree(work, ignore_errors=True)
    return run_compare(("before", before.read_text(), context or before.parent),
                       ("after", after.read_text(), context_after or after.parent),
                       work.resolve(), smoke, touch, settings.probe_timeout)


def _render_compare(sides: Any, as_json: bool) -> None:
    from imgopt.compare import ratios
    from imgopt.report import human

    first, second = sides
    if as_json:
        echo_json({"before": asdict(first), "after": asdict(second),
                   "ratios": ratios(first, second)})
    else:
        rows = [["size", human(first.size_bytes), human(second.size_bytes)],
                ["layers", first.layers, second.layers],
                ["efficiency", f"{first.efficiency:.1%}", f"{second.efficiency:.1%}"],
                ["reclaimable", human(first.reclaimable_bytes), human(second.reclaimable_bytes)],
                ["cold build", f"{first.cold_seconds:.1f} s", f"{second.cold_seconds:.1f} s"],
                ["rebuild after a source change", f"{first.rebuild_seconds:.1f} s",
                 f"{second.rebuild_seconds:.1f} s"],
                ["smoke", "ok" if first.smoke_ok else "FAILED",
                 "ok" if second.smoke_ok else "FAILED"]]
        _table("before -> after", ["", "before", "after"], rows)
        ratio = ratios(first, second)
        console.print("after/before: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratio.items()))
    for side in (first, second):
        if not side.smoke_ok:
            raise CLIError(f"smoke command failed on {side.dockerfile}: "
                           f"{side.smoke_output[-200:]}".replace("\n", " | "), ExitCode.FAILURE)


@cli.command()
@click.argument("source")
@click.option("--probe", "probes", multiple=True,
              help="A command (sh -c) that must pass before and after; repeatable.")
@click.option("--keep", "keeps", multiple=True, help="A path always kept; repeatable.")
@click.option("--no-cmd-probe", is_flag=True, help="Do not run the image's CMD as a probe.")
@click.option("--output", type=click.Path(path_type=Path),
              help="Copy the minified image.tar and OCI layout here.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def minify(ctx: click.Context, source: str, probes: tuple[str, ...], keeps: tuple[str, ...],
           no_cmd_probe: bool, output: Path | None, as_json: bool) -> None:
    """Slim-style minification without a daemon: trace the CMD and probes under strace in a
    chroot, keep what they touch, rebuild FROM scratch, re-run the probes.

    \b
    Example: imgopt minify image.tar --probe "/app/run --version" --output slim/
    """
    from imgopt import sources
    from imgopt.errors import ProbeError
    from imgopt.minify import minify as run_minify

    settings = _settings(ctx)
    with _errors():
        work = (settings.work_dir / "minify").resolve()
        shutil.rmtree(work, ignore_errors=True)
        layout, tag = sources.oci_layout_of(source, work)
        result = run_minify(layout, tag, work, list(probes), list(keeps),
                            include_cmd=not no_cmd_probe, timeout=settings.probe_timeout)
        failed = [p for p in result.probes if not p["ok"]]
        if failed:
            raise ProbeError(f"probe `{failed[0]['command']}` fails on the minified image: "
                             f"{failed[0]['output'][-160:]}")
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        shutil.copy2(result.docker_archive, output / "image.tar")
        shutil.copytree(result.oci_layout, output / "oci", dirs_exist_ok=True)
    if as_json:
        echo_json({**asdict(result), "saved_bytes": result.saved_bytes})
        return
    console.print(f"{result.original_bytes} -> {result.minified_bytes} bytes "
                  f"(saved {result.saved_bytes}); kept {result.kept_files} paths, removed "
                  f"{result.removed_files}; probes passed: {len(result.probes)}")


# ------------------------------------------------------------------ demo


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """The sample app end to end: lint, fix, build both, compare (what `make run` does)."""
    from imgopt.context import measure
    from imgopt.fix import fix as run_fix
    from imgopt.sample import materialize

    settings = _settings(ctx)
    with _errors():
        target = (settings.work_dir / "demo").resolve()
        shutil.rmtree(target, ignore_errors=True)
        app = materialize(target / "app")
        ctx.invoke(lint, dockerfile=app / "Dockerfile", context=None, hadolint=None,
                   as_json=False)
        result = run_fix((app / "Dockerfile").read_text(), measure(app))
        console.rule("imgopt fix")
        click.echo(result.diff())
        for rewrite in result.rewrites:
            click.echo(f"rewrote {rewrite.rule}: {rewrite.description}")
        atomic_write_text(app / "Dockerfile.optimized", result.fixed)
        console.rule("imgopt compare (buildah, cold build + rebuild after a source change)")
        sides = _run_compare(settings, app / "Dockerfile", app / "Dockerfile.optimized",
                             None, None, None, "app/main.sh")
    _render_compare(sides, as_json=False)
    console.rule("imgopt analyze (the original image: where its bytes went, and why)")
    from imgopt import recommend
    from imgopt.adapters.archive import read_image
    from imgopt.dockerfile_model import parse
    from imgopt.layers import analyse
    from imgopt.rules import lint as run_rules

    with _errors():
        image = read_image(sides[0].oci_layout)
        analysis = analyse(image)
        df = parse((app / "Dockerfile").read_text())
        recs = recommend.rank(run_rules(df, measure(app)), df, analysis, image.config)
    _print_analysis(analysis, recs, None)
    console.print(f"files: {app}")
