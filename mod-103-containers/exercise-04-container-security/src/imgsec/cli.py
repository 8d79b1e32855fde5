"""Command line for imgsec: parse, call the core, render. No logic lives here.

Exit codes (README "Usage"): 0 ok / gate passed, 1 gate failed, 2 usage, 3 invalid input
(image, OSV record, VEX document, config), 4 not found, 5 unavailable (registry, tool),
70 internal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, print_table
from aiinfra_shared.cli import expected_errors as shared_expected_errors
from aiinfra_shared.io import atomic_write_text
from rich.console import Console

from imgsec import __version__
from imgsec.config import Settings
from imgsec.errors import ImgsecError

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


# Core errors -> one line and their exit code; a ValueError (e.g. a malformed registry
# reference) is a usage error.
expected_errors = shared_expected_errors(ImgsecError, ValueError, default_code=ExitCode.USAGE)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    print_table(title, columns, rows, console)


@click.group(cls=AppGroup, epilog="""\b
Examples:
  imgsec db import fixtures/osv            # OSV JSON files, dirs or zips -> SQLite
  imgsec db import --safety-db             # ~2,800 PyPI advisories (2021) from the wheel
  imgsec scan image.tar                    # docker-archive; also oci:DIR:TAG, dir:ROOTFS
  imgsec scan 127.0.0.1:5000/team/app:1.0 --fail-on high --ignore-unfixed --vex app.vex.json
  imgsec scan image.tar --format sarif --output imgsec.sarif
  imgsec scan Dockerfile                   # hadolint + secret rules on the file
  imgsec sbom image.tar --format spdx --compare-syft
  imgsec scan-repo 127.0.0.1:5000/team/app
  imgsec merge --imgsec r.json --trivy trivy.json --grype grype.json
  imgsec demo                              # build the planted image, scan it, HTML report""")
@click.version_option(__version__, prog_name="imgsec")
@click.option("--config", "config_file", type=click.Path(path_type=Path), envvar="IMGSEC_CONFIG",
              help="Settings file (YAML/TOML); IMGSEC_* env vars override it.")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None,
              help="Vulnerability database (IMGSEC_DB_PATH, default .imgsec/vulns.db).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, db_path: Path | None) -> None:
    """imgsec: one container scanner for CI and the registry -- SBOM, vulnerabilities
    (offline OSV database), VEX, secrets in every layer, CIS 4.x checks, one scorecard and
    one exit code.

    Exit codes: 0 ok, 1 gate failed, 2 usage, 3 invalid input (image, OSV, VEX, config),
    4 not found, 5 unavailable (registry, tool), 70 internal.
    """
    overrides: dict[str, Any] = {"db_path": db_path} if db_path else {}
    ctx.obj = Settings.load(config_file, **overrides)


main = cli


# ------------------------------------------------------------------ scanning


def _load(settings: Settings, image: str) -> Any:
    from imgsec.sources import load_image

    return load_image(image, settings.authfile, settings.insecure_hosts)


def _is_dockerfile(spec: str) -> bool:
    path = Path(spec)
    return path.is_file() and ("dockerfile" in path.name.lower() or
                               "containerfile" in path.name.lower())


def run_scan(settings: Settings, image_spec: str, vex_files: tuple[Path, ...],
             ignore_unfixed: bool, dockerfile: Path | None) -> Any:
    """Load everything first (VEX, DB, image) so a bad input fails before any output."""
    from imgsec.adapters.hadolint import lint_dockerfile
    from imgsec.adapters.vulndb import VulnDB
    from imgsec.scan import scan, scan_dockerfile
    from imgsec.vex import load_vex

    statements = [s for path in vex_files for s in load_vex(path)]
    if _is_dockerfile(image_spec):
        return scan_dockerfile(Path(image_spec), lint_dockerfile(Path(image_spec)),
                               settings.detect_secrets)
    with VulnDB(settings.db_path) as db:
        image = _load(settings, image_spec)
        result = scan(image, db, statements, ignore_unfixed, settings.detect_secrets)
        result.db = {"path": str(db.info.path), "records": db.info.records,
                     "built_at": db.info.built_at, "version": db.info.version}
        if db.info.age_days() > settings.stale_after_days:
            result.warnings.append(f"vulnerability database is {db.info.age_days():.0f} days "
                                   f"old (built {db.info.built_at}); re-import it")
    if dockerfile is not None:
        result.lint = lint_dockerfile(dockerfile)
    return result


def print_scorecard(result: Any) -> None:
    card = result.scorecard
    console.print(f"[bold]{result.image.name}[/bold]  grade [bold]{card.grade}[/bold] "
                  f"({card.score}/100)  vulnerabilities {card.vulnerabilities}  "
                  f"secrets {card.secrets}  failed checks {card.checks_failed}  "
                  f"VEX-suppressed {card.suppressed}  shadowed packages "
                  f"{card.shadowed_packages}")


def print_tables(result: Any) -> None:
    _table("vulnerabilities", ["id", "severity", "package", "installed", "fixed", "layer"],
           [[f.match.vuln_id, f.match.severity, f.package.name, f.package.version,
             f.match.fixed or "-", f"{f.package.layer_index}"
             + (" (shadowed)" if f.package.shadowed else "")] for f in result.vulnerabilities])
    if result.suppressed:
        _table("suppressed by VEX", ["id", "package", "status", "justification"],
               [[f.match.vuln_id, f.package.purl, s.status, s.justification]
                for f, s in result.suppressed])
    _table("secrets", ["rule", "where", "layer", "redacted", "deleted later"],
           [[s.rule, f"{s.location} {s.path}" + (f":{s.line}" if s.line else ""),
             "-" if s.layer_index is None else s.layer_index, f"{s.redacted} {s.fingerprint}",
             "yes" if s.deleted else ""] for s in result.secrets])
    _table("checks", ["id", "level", "title", "evidence / reason"],
           [[c.id, c.level, c.title, "; ".join(c.evidence) or c.reason] for c in result.checks]
           + [[x.code, x.level, "hadolint", f"{x.file}:{x.line} {x.message}"]
              for x in result.lint])
    print_scorecard(result)


@cli.command("scan")
@click.argument("image")
@click.option("--vex", "vex_files", multiple=True, type=click.Path(path_type=Path),
              help="OpenVEX 0.2 document (repeatable).")
@click.option("--fail-on", type=click.Choice(["low", "medium", "high", "critical"]),
              default=None, help="Exit 1 when a finding is at or above this (IMGSEC_FAIL_ON).")
@click.option("--ignore-unfixed", is_flag=True, help="Drop vulnerabilities with no fix.")
@click.option("--dockerfile", type=click.Path(path_type=Path), default=None,
              help="Also lint this Dockerfile with hadolint and merge the results.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif", "html"]),
              default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="Write the report here (atomically) instead of stdout.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Also write the HTML report here.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
@expected_errors
def scan_cmd(ctx: click.Context, image: str, vex_files: tuple[Path, ...], fail_on: str | None,
             ignore_unfixed: bool, dockerfile: Path | None, fmt: str, output: Path | None,
             html_path: Path | None, as_json: bool) -> None:
    """Scan IMAGE: inventory, vulnerabilities, VEX, secrets, CIS checks, scorecard.

    IMAGE is a docker-archive tarball, oci:DIR[:TAG], dir:ROOTFS, a registry reference
    (HOST/REPO:TAG, copied with skopeo; credentials from Docker's config.json) or a
    Dockerfile.

    \b
    Example: imgsec scan app.tar --fail-on high --ignore-unfixed --vex app.vex.json
    """
    from imgsec.reports import to_dict, to_html, to_sarif

    settings = _settings(ctx)
    result = run_scan(settings, image, vex_files, ignore_unfixed, dockerfile)
    fmt = "json" if as_json else fmt
    rendered = {"json": lambda: json.dumps(to_dict(result), indent=2),
                "sarif": lambda: json.dumps(to_sarif(result), indent=2),
                "html": lambda: to_html(result)}
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if html_path is not None:
        atomic_write_text(html_path, to_html(result))
    if fmt == "table":
        print_tables(result)
    elif output is not None:
        atomic_write_text(output, rendered[fmt]() + "\n")
        print_scorecard(result)
    else:
        click.echo(rendered[fmt]())
    threshold = fail_on or settings.fail_on
    failures = result.gate(threshold)
    if failures:
        raise CLIError(f"gate failed (--fail-on {threshold}): {'; '.join(failures)}",
                       ExitCode.FAILURE)


@cli.command("sbom")
@click.argument("image")
@click.option("--format", "fmt", type=click.Choice(["cyclonedx", "spdx"]), default="cyclonedx",
              show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None)
@click.option("--compare-syft", is_flag=True, help="Run syft too and list the differences.")
@click.option("--json", "as_json", is_flag=True, help="With --compare-syft: print JSON.")
@click.pass_context
@expected_errors
def sbom_cmd(ctx: click.Context, image: str, fmt: str, output: Path | None,
             compare_syft: bool, as_json: bool) -> None:
    """Write a CycloneDX 1.6 or SPDX 2.3 SBOM of IMAGE (validated before it is written).

    \b
    Example: imgsec sbom app.tar --format spdx -o app.spdx.json --compare-syft
    """
    from imgsec.catalog.inventory import build_inventory
    from imgsec.layers import flatten
    from imgsec.sbom import cyclonedx_json, spdx_json

    loaded = _load(_settings(ctx), image)
    inventory = build_inventory(loaded, flatten(loaded.layers))
    text = cyclonedx_json(loaded, inventory) if fmt == "cyclonedx" else spdx_json(
        loaded, inventory)
    if compare_syft:
        from imgsec.adapters.syft import compare, run_syft

        comparison = compare(inventory.packages, run_syft(syft_source(image)))
        if output is not None:
            atomic_write_text(output, text + "\n")
        if as_json:
            echo_json(comparison.as_dict())
            return
        _table("imgsec vs syft", ["package", "imgsec", "syft"],
               [[f"{t}:{n}@{v}", "yes", "yes"] for t, n, v in comparison.both]
               + [[f"{t}:{n}@{v}", "yes", "-"] for t, n, v in comparison.only_imgsec]
               + [[f"{t}:{n}@{v}", "-", "yes"] for t, n, v in comparison.only_syft])
        return
    if output is not None:
        atomic_write_text(output, text + "\n")
    else:
        click.echo(text)


def syft_source(spec: str) -> str:
    """imgsec's IMAGE spellings -> syft's source schemes."""
    from imgsec.sources import is_registry_ref

    if spec.startswith(("docker-archive:", "dir:")):
        return spec
    if spec.startswith("oci:"):
        return "oci-dir:" + spec.removeprefix("oci:").split(":")[0]
    if is_registry_ref(spec):
        return "registry:" + spec.removeprefix("docker://")
    path = Path(spec)
    if path.is_dir():
        return ("oci-dir:" if (path / "index.json").exists() else "dir:") + spec
    return "docker-archive:" + spec


# ------------------------------------------------------------------ database


@cli.group("db")
def db_group() -> None:
    """The offline vulnerability database (OSV format in SQLite)."""


@db_group.command("import")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--safety-db", is_flag=True, help="Import the safety-db wheel's advisories.")
@click.option("--replace", is_flag=True, help="Start from an empty database.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@expected_errors
def db_import(ctx: click.Context, sources: tuple[Path, ...], safety_db: bool, replace: bool,
              as_json: bool) -> None:
    """Import OSV JSON files, directories or zips; all-or-nothing.

    \b
    Example: imgsec db import fixtures/osv --replace && imgsec db import --safety-db
    """
    from imgsec.adapters.safetydb import load_safety_db
    from imgsec.adapters.vulndb import import_records, read_osv_sources

    if not sources and not safety_db:
        raise CLIError("nothing to import: give OSV files/dirs/zips or --safety-db",
                       ExitCode.USAGE)
    settings = _settings(ctx)
    records = read_osv_sources(list(sources))
    labels = [str(s) for s in sources]
    skipped = 0
    if safety_db:
        converted, skipped = load_safety_db()
        records += converted
        labels.append("safety-db")
    info = import_records(settings.db_path, records, ", ".join(labels), replace=replace)
    summary = {"db": str(info.path), "imported": len(records), "records": info.records,
               "built_at": info.built_at, "sources": info.sources,
               "skipped_specifiers": skipped}
    if as_json:
        echo_json(summary)
    else:
        click.echo(f"imported {len(records)} records into {info.path} ({info.records} total)"
                   + (f"; {skipped} safety-db specifiers OSV cannot express" if skipped else ""))


@db_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@expected_errors
def db_info(ctx: click.Context, as_json: bool) -> None:
    """Records, sources, build time and age of the database."""
    from imgsec.adapters.vulndb import info

    settings = _settings(ctx)
    current = info(settings.db_path)
    payload = {"db": str(current.path), "records": current.records,
               "built_at": current.built_at, "sources": current.sources,
               "version": current.version, "age_days": round(current.age_days(), 2),
               "stale": current.age_days() > settings.stale_after_days}
    if as_json:
        echo_json(payload)
    else:
        for key, value in payload.items():
            click.echo(f"{key}: {value}")


# ------------------------------------------------------------------ registry, merging


@cli.command("scan-repo")
@click.argument("repository")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@expected_errors
def scan_repo(ctx: click.Context, repository: str, as_json: bool) -> None:
    """Scan every tag of REGISTRY/REPO, cached by manifest digest + DB version.

    \b
    Example: imgsec scan-repo 127.0.0.1:5000/team/app --json
    """
    from imgsec.adapters.skopeo import Skopeo
    from imgsec.adapters.vulndb import info
    from imgsec.repo import scan_repository

    settings = _settings(ctx)
    skopeo = Skopeo(authfile=settings.authfile, insecure_hosts=settings.insecure_hosts)
    db_version = info(settings.db_path).version
    repository = repository.removeprefix("docker://")

    def scan_tag(tag: str) -> dict[str, Any]:
        result = run_scan(settings, f"{repository}:{tag}", (), False, None)
        return {"scorecard": result.scorecard.as_dict(),
                "vulnerabilities": [f.match.vuln_id for f in result.vulnerabilities],
                "secrets": len(result.secrets)}

    results = scan_repository(skopeo.list_tags(repository),
                              lambda tag: skopeo.digest(f"{repository}:{tag}"), scan_tag,
                              settings.cache_dir, db_version)
    if as_json:
        echo_json([r.as_dict() for r in results])
        return
    _table(repository, ["tag", "digest", "grade", "score", "cached"],
           [[r.tag, r.digest[:19], r.summary["scorecard"]["grade"],
             r.summary["scorecard"]["score"], "yes" if r.cached else ""] for r in results])


@cli.command("merge")
@click.option("--imgsec", "imgsec_report", type=click.Path(path_type=Path), default=None,
              help="An `imgsec scan --format json` report.")
@click.option("--trivy", type=click.Path(path_type=Path), default=None,
              help="A `trivy image -f json` report.")
@click.option("--grype", type=click.Path(path_type=Path), default=None,
              help="A `grype -o json` report.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@expected_errors
def merge_cmd(imgsec_report: Path | None, trivy: Path | None, grype: Path | None,
              as_json: bool) -> None:
    """Merge imgsec, Trivy and Grype reports by vulnerability id (aliases) + package.

    \b
    Example: imgsec merge --imgsec r.json --trivy trivy.json --grype grype.json --json
    """
    from imgsec.errors import InvalidInputError, NotFoundError
    from imgsec.multitool import merge, parse_grype, parse_trivy, rows_from_imgsec

    def read(path: Path) -> Any:
        if not path.is_file():
            raise NotFoundError(f"{path}: no such report")
        try:
            return json.loads(path.read_text())
        except ValueError as exc:
            raise InvalidInputError(f"{path}: not valid JSON ({exc})") from exc

    def parsed(path: Path, parse: Callable[[Any], Any]) -> Any:
        try:
            return parse(read(path))
        except (KeyError, TypeError) as exc:
            raise InvalidInputError(f"{path}: unexpected report shape (missing {exc})") from exc
        except InvalidInputError as exc:
            raise InvalidInputError(f"{path}: {exc}") from exc

    sources = []
    if imgsec_report:
        sources.append(parsed(imgsec_report, rows_from_imgsec))
    if trivy:
        sources.append(parsed(trivy, parse_trivy))
    if grype:
        sources.append(parsed(grype, parse_grype))
    if not sources:
        raise CLIError("give at least one of --imgsec, --trivy, --grype", ExitCode.USAGE)
    rows = merge(*sources)
    if as_json:
        echo_json([r.as_dict() for r in rows])
        return
    _table("merged findings", ["id", "package", "severity", "fixed", "tools"],
           [[r.vuln_id, r.purl, r.severity, r.fixed or "-", ",".join(sorted(r.tools))]
            for r in rows])


@cli.command("demo")
@click.option("--out", type=click.Path(path_type=Path), default=Path(".imgsec/demo"),
              show_default=True, help="Where the image, DB and reports go.")
@click.pass_context
@expected_errors
def demo_cmd(ctx: click.Context, out: Path) -> None:
    """Build the planted image with buildah, import the fixture DB, scan, write HTML."""
    from imgsec.demo import run_demo

    report = run_demo(out)
    print_tables(report.result)
    click.echo(f"HTML report: {report.html}")
    click.echo(f"gate --fail-on high: {'; '.join(report.result.gate('high')) or 'passed'}")
