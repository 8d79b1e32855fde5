"""Command line for gpufleet: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import importlib
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click
import yaml
from aiinfra_shared.cli import AppGroup, ExitCode, echo_json, expected_errors, print_table
from aiinfra_shared.io import atomic_write_json, atomic_write_text

from gpufleet import __version__
from gpufleet import fleet as fleetfile
from gpufleet.config import Settings
from gpufleet.errors import GpufleetError

errors = expected_errors(GpufleetError, default_code=ExitCode.FAILURE)
FLEET = click.option("--fleet", "fleet_path", type=click.Path(path_type=Path), default=None,
                     help="fleet.yaml  [default: $GPUFLEET_FLEET_FILE or examples/fleet.yaml]")
PROM = click.option("--prometheus", "prometheus_url", default=None,
                    help="Prometheus URL  [default: $GPUFLEET_PROMETHEUS_URL]")


def _settings() -> Settings:
    return Settings.load()


def _fleet(path: Path | None) -> fleetfile.Fleet:
    return fleetfile.load(path or Path(_settings().fleet_file))


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="gpufleet")
def cli() -> None:
    """Run one GPU fleet for several teams: GPU Operator and Kueue manifests, DCGM
    telemetry and alerts, budgets and a monthly chargeback."""


@cli.command()
@FLEET
@errors
def validate(fleet_path: Path | None) -> None:
    """Check fleet.yaml (exit 3 with one line naming the field when it is invalid)."""
    fleet = _fleet(fleet_path)
    click.echo(f"ok: {len(fleet.pools)} pools ({sum(p.gpus for p in fleet.pools)} GPUs), "
               f"{len(fleet.teams)} teams")


@cli.command("render")
@FLEET
@click.option("--out", type=click.Path(path_type=Path), default=Path("build/manifests"),
              show_default=True)
@errors
def render_cmd(fleet_path: Path | None, out: Path) -> None:
    """Render the Helm chart for the fleet, lint it and validate every manifest."""
    from gpufleet import render

    rendered = render.render(_fleet(fleet_path))
    written = render.write(rendered, out)
    kinds: dict[str, int] = {}
    for doc in rendered.documents:
        kinds[doc["kind"]] = kinds.get(doc["kind"], 0) + 1
    click.echo(f"rendered {len(rendered.documents)} objects into {out} "
               f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}); "
               f"helm lint and schema validation passed; {len(written)} files")


@cli.command()
@FLEET
@click.option("--out", type=click.Path(path_type=Path), default=Path("deploy"),
              show_default=True)
@errors
def monitoring(fleet_path: Path | None, out: Path) -> None:
    """Write the Prometheus rules and the Grafana dashboards."""
    from gpufleet import dashboards, rules

    fleet = _fleet(fleet_path)
    atomic_write_text(out / "prometheus" / "rules.yml",
                      yaml.safe_dump(rules.rule_groups(fleet), sort_keys=False))
    for name, board in dashboards.dashboards(fleet).items():
        atomic_write_json(out / "grafana" / f"gpufleet-{name}.json", board)
    click.echo(f"wrote {out}/prometheus/rules.yml and 3 dashboards in {out}/grafana")


@cli.command()
@click.option("--emulate", "scenario", default=None,
              help="play an emulated NVML scenario (steady, incident, idle) instead of NVML")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9400, show_default=True, type=int)
@click.option("--hostname", "node", default=None, help="Hostname label [default: this host]")
@click.option("--incident-after", default=2.0, show_default=True, type=float)
@click.option("--incident-for", default=10.0, show_default=True, type=float)
@click.option("--xid-hold", default=60.0, show_default=True, type=float,
              help="seconds an XID stays in DCGM_FI_DEV_XID_ERRORS")
@click.option("--once", is_flag=True, help="print one scrape and exit")
@errors
def exporter(scenario: str | None, host: str, port: int, node: str | None,
             incident_after: float, incident_for: float, xid_hold: float, once: bool) -> None:
    """Serve GPU metrics in dcgm-exporter's format on /metrics. Exits 5 without NVML."""
    from gpufleet import exporter as exp
    from gpufleet import nvml_emulated, telemetry

    nvml: Any
    if scenario is not None:
        try:
            nvml = nvml_emulated.emulated(scenario, incident_after, incident_for)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--emulate") from exc
    else:
        nvml = importlib.import_module("pynvml")
    telemetry.init_nvml(nvml)
    collector = telemetry.Collector(nvml, node or exp.hostname(), xid_hold_s=xid_hold)
    server = exp.Exporter(collector, emulated=scenario is not None, host=host, port=port)
    if once:
        click.echo(server.render(), nl=False)
        server.stop()
        return

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"serving on http://{host}:{server.port}/metrics"
               f"{' (emulated: ' + scenario + ')' if scenario else ''}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server.server_close()


@cli.command()
@FLEET
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--data-dir", type=click.Path(path_type=Path), required=True,
              help="Prometheus TSDB directory (Prometheus not running)")
@click.option("--seed", default=7, show_default=True, type=int)
@errors
def backfill(fleet_path: Path | None, month: str, data_dir: Path, seed: int) -> None:
    """Synthesize a month of DCGM series and load it with promtool (create-blocks-from).
    Exit 5 when promtool is missing or fails."""
    from gpufleet import backfill as bf

    fleet = _fleet(fleet_path)
    try:
        bf.month_bounds(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    scratch = data_dir.parent / f".{data_dir.name}-openmetrics.om"
    started = time.perf_counter()
    truth = bf.write(fleet, month, scratch, seed)
    try:
        bf.load_blocks(data_dir, scratch)
    finally:
        scratch.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    click.echo(f"backfilled {truth.samples} samples for {month} into {data_dir} "
               f"in {seconds:.1f} s")


@cli.command()
@FLEET
@PROM
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="write chargeback-MONTH.{csv,md,html} here")
@click.option("--json", "as_json", is_flag=True)
@errors
def report(fleet_path: Path | None, prometheus_url: str | None, month: str, out: Path | None,
           as_json: bool) -> None:
    """Allocated, used and idle GPU-hours and cost per team (exit 5 if Prometheus is down)."""
    from gpufleet import report as rp
    from gpufleet.promclient import PrometheusClient

    fleet = _fleet(fleet_path)
    url = prometheus_url or _settings().prometheus_url
    try:
        built = rp.build(fleet, PrometheusClient(url), month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    if out is not None:
        rp.write(built, out)
    if as_json:
        echo_json({"month": month, "fleet_cost": str(built.fleet_cost),
                   "rows": [dict(zip(rp.HEADERS, row, strict=True))
                            for row in rp.table_rows(built)]})
        return
    print_table(f"GPU chargeback {month} (fleet cost ${built.fleet_cost:.2f})",
                rp.HEADERS, rp.table_rows(built))


@cli.command()
@FLEET
@click.option("--trace", type=click.Path(path_type=Path), required=True,
              help="CSV id,team,submit_min,duration_min,gpus,flavor[,priority]")
@click.option("--json", "as_json", is_flag=True)
@errors
def simulate(fleet_path: Path | None, trace: Path, as_json: bool) -> None:
    """Replay a job trace with Kueue's rules; waits and utilisation per team."""
    from gpufleet import simulate as sim

    fleet = _fleet(fleet_path)
    result = sim.simulate(fleet, sim.load_trace(trace, fleet))
    if as_json:
        echo_json({"makespan_min": result.makespan,
                   "fleet_utilisation": round(result.fleet_utilisation, 4),
                   "teams": {k: vars(v) for k, v in result.teams.items()},
                   "jobs": {k: {"admissions": j.admissions, "waited": j.waited,
                                "preempted": j.preempted, "finished": j.finished}
                            for k, j in result.jobs.items()}})
        return
    print_table(f"Kueue replay: makespan {result.makespan} min, fleet utilisation "
                f"{result.fleet_utilisation:.1%}",
                ["team", "jobs", "mean wait min", "max wait min", "GPU-min",
                 "borrowed GPU-min", "preemptions", "utilisation"],
                [[s.team, s.jobs, f"{s.mean_wait:.1f}", s.max_wait, s.gpu_minutes,
                  s.borrowed_gpu_minutes, s.preemptions, f"{s.utilisation:.1%}"]
                 for s in result.teams.values()])


@cli.command()
@FLEET
@PROM
@click.option("--kubeconfig", type=click.Path(path_type=Path), default=None)
@click.option("--dry-run", is_flag=True, help="print the diff, write nothing")
@click.option("--no-budgets", is_flag=True, help="do not query Prometheus for budgets")
@click.option("--now", type=float, default=None, help="unix time (default: now)")
@errors
def controller(fleet_path: Path | None, prometheus_url: str | None, kubeconfig: Path | None,
               dry_run: bool, no_budgets: bool, now: float | None) -> None:
    """Reconcile the cluster with fleet.yaml once (idempotent)."""
    from gpufleet import controller as ctl
    from gpufleet.promclient import PrometheusClient

    fleet = _fleet(fleet_path)
    prom = None if no_budgets else PrometheusClient(prometheus_url or
                                                     _settings().prometheus_url)
    outcome = ctl.reconcile(fleet, ctl.Kube.from_environment(kubeconfig), prom,
                            now if now is not None else time.time(), apply=not dry_run)
    for change in outcome.changes:
        click.echo(("would " if dry_run else "") + change.line())
    held = ", ".join(sorted(outcome.held)) or "none"
    click.echo(f"{len(outcome.changes)} change(s){' (dry run)' if dry_run else ''}; "
               f"budget hold: {held}")


main = cli

if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())

