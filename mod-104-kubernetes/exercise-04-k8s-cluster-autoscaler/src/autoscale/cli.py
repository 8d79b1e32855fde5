"""Command line for autoscale: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, expected_errors, print_table
from aiinfra_shared.io import atomic_write_text
from rich.console import Console

from autoscale import (
    __version__,
    advisor,
    clusterfile,
    manifests,
    monitoring,
    policyfile,
    quantity,
    report,
    simulator,
    traces,
    validation,
)
from autoscale.config import Settings
from autoscale.errors import AutoscaleError

log = logging.getLogger(__name__)
console = Console(width=None if sys.stdout.isatty() else 150)
EPILOG_EXIT = ("Exit codes: 0 ok, 1 failure (validation, --check found differences), 2 usage, "
               "3 bad input (trace, policy or cluster file), 4 no data (a query returned no "
               "or several series), 5 Prometheus or Kubernetes unreachable, 70 internal.")


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


@click.group(cls=AppGroup, epilog=EPILOG_EXIT)
@click.version_option(__version__, prog_name="autoscale")
@click.option("--config", "config_file", type=click.Path(path_type=Path), envvar="AUTOSCALE_CONFIG",
              help="YAML/TOML settings file (env vars AUTOSCALE_* override it).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Pick autoscaling policies on evidence: simulate HPA, KEDA, VPA, predictive and
    cluster policies on one traffic trace, render the winner's manifests, advise from
    Prometheus history, and run a controller or a KEDA external scaler.

    \b
    Examples:
      autoscale simulate --pattern spike --policies hpa-cpu,keda,predictive
      autoscale trace generate --pattern diurnal --days 3 --out diurnal.csv
      autoscale recommend --prometheus http://127.0.0.1:9090 --deployment ml-serving/web
      autoscale render --policy examples/policy.yaml --out build/manifests
      autoscale controller --prometheus http://127.0.0.1:9090 --once
    """
    ctx.obj = Settings.load(config_file)


# --------------------------------------------------------------------------- traces


@cli.group()
def trace() -> None:
    """Generate or export traffic traces (CSV: timestamp,requests_per_second)."""


@trace.command("generate", epilog="Example: autoscale trace generate --pattern spike --days 3 "
                                  "--out spike.csv")
@click.option("--pattern", type=click.Choice([p.value for p in traces.Pattern]),
              default="diurnal", show_default=True)
@click.option("--days", type=click.FloatRange(min=0.01), default=3.0, show_default=True)
@click.option("--step", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="seconds between samples")
@click.option("--base", type=click.FloatRange(min=0), default=40.0, show_default=True)
@click.option("--peak", type=click.FloatRange(min=0), default=400.0, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@expected_errors(AutoscaleError)
def trace_generate(pattern: str, days: float, step: float, base: float, peak: float,
                   seed: int, out: Path) -> None:
    """Write a seeded synthetic trace (diurnal, spike or ramp)."""
    generated = traces.generate(traces.Pattern(pattern), days, step, base, peak, seed=seed)
    atomic_write_text(out, generated.to_csv())
    click.echo(f"wrote {len(generated.values)} samples ({generated.duration / 3600:g} h) "
               f"to {out}")


@trace.command("export", epilog="Example: autoscale trace export --prometheus "
                                "http://127.0.0.1:9090 --query 'sum(rate(http_requests_total"
                                "[5m]))' --hours 24 --out day.csv")
@click.option("--prometheus", "prometheus_url", help="Prometheus URL [settings]")
@click.option("--query", required=True, help="PromQL returning exactly one series")
@click.option("--hours", type=click.FloatRange(min=0.1), default=24.0, show_default=True)
@click.option("--step", type=click.FloatRange(min=1), default=60.0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.pass_context
@expected_errors(AutoscaleError)
def trace_export(ctx: click.Context, prometheus_url: str | None, query: str, hours: float,
                 step: float, out: Path) -> None:
    """Export a range query from Prometheus as a trace."""
    from autoscale.adapters.prometheus import PrometheusClient

    url = prometheus_url or _settings(ctx).prometheus_url
    end = time.time()
    with PrometheusClient(url) as client:
        series = client.one(client.query_range(query, end - hours * 3600, end, step), query)
    exported = traces.from_series(series.points, "prometheus")
    atomic_write_text(out, exported.to_csv())
    click.echo(f"wrote {len(exported.values)} samples to {out}")


# --------------------------------------------------------------------------- simulate


@cli.command(epilog="Examples:\n\n  autoscale simulate --pattern spike\n\n  autoscale simulate "
                    "--trace examples/traces/diurnal.csv --policies hpa-cpu,predictive "
                    "--plot diurnal.png --render-winner build/diurnal")
@click.option("--trace", "trace_file", type=click.Path(path_type=Path),
              help="trace CSV (or use --pattern)")
@click.option("--pattern", type=click.Choice([p.value for p in traces.Pattern]),
              help="generate a seeded trace instead of reading one")
@click.option("--days", type=click.FloatRange(min=0.1), default=3.0, show_default=True,
              help="length of a --pattern trace")
@click.option("--policies", default="hpa-cpu,hpa-rps,keda,predictive,vpa", show_default=True,
              help=f"comma-separated: {', '.join(simulator.POLICIES)}; "
                   "suffix @karpenter or @cluster-autoscaler")
@click.option("--cluster", "cluster_file", type=click.Path(path_type=Path),
              help="cluster.yaml [settings: examples/cluster.yaml]")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path),
              help="policy.yaml [settings: examples/policy.yaml]")
@click.option("--warmup-hours", type=click.FloatRange(min=0), help="unscored history [48]")
@click.option("--plot", type=click.Path(path_type=Path), help="write a PNG of the runs")
@click.option("--render-winner", type=click.Path(path_type=Path),
              help="render the winning policy's manifests into this folder")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
@expected_errors(AutoscaleError)
def simulate(ctx: click.Context, trace_file: Path | None, pattern: str | None, days: float,
             policies: str, cluster_file: Path | None, policy_file: Path | None,
             warmup_hours: float | None, plot: Path | None, render_winner: Path | None,
             as_json: bool) -> None:
    """Replay a trace against several policies; compare SLO violations with cost."""
    settings = _settings(ctx)
    if (trace_file is None) == (pattern is None):
        raise CLIError("give exactly one of --trace or --pattern", ExitCode.USAGE)
    replay = traces.load(trace_file) if trace_file else \
        traces.generate(traces.Pattern(str(pattern)), days)
    spec = clusterfile.load(cluster_file or settings.cluster_file)
    policy = policyfile.load(policy_file or settings.policy_file)
    names = [n.strip() for n in policies.split(",") if n.strip()]
    if not names:
        raise CLIError("--policies is empty", ExitCode.USAGE)
    for name in names:
        simulator.parse_policy_name(name, spec.provisioner)
    warmup = (warmup_hours if warmup_hours is not None else settings.warmup_hours) * 3600
    if warmup >= replay.duration:
        warmup = 0.0
        log.warning("trace shorter than the warm-up: scoring the whole trace")
    results = []
    with console.status("simulating") as status:
        for name in names:
            status.update(f"simulating {name} on {replay.name} "
                          f"({replay.duration / 3600:g} h)")
            results.append(simulator.simulate(replay, name, policy, spec, warmup,
                                              keep_series=plot is not None))
    best = report.winner(results)
    if plot is not None:
        report.plot(results, plot, f"{replay.name}: request rate and ready pods")
    rendered: list[str] = []
    if render_winner is not None:
        rendered = _write_manifests(manifests.policy_for(policy, best.label), spec,
                                    render_winner)
    if as_json:
        click.echo(json.dumps({"trace": replay.name, "scored_hours": best.simulated_hours,
                               "results": [r.as_dict() for r in results],
                               "winner": best.label, "rendered": rendered}, indent=2))
        return
    print_table(f"{replay.name}: {best.simulated_hours:g} h scored "
                f"(after {warmup / 3600:g} h warm-up)", report.COLUMNS,
                report.rows(results), console)
    console.print(f"winner: [bold]{best.label}[/bold] (the cheapest within 1 minute of the "
                  f"fewest SLO-violation minutes)")
    if rendered:
        console.print(f"rendered {len(rendered)} files for {best.label} into {render_winner}")
    if plot is not None:
        console.print(f"plot: {plot}")


# --------------------------------------------------------------------------- manifests


def _write_manifests(policy: policyfile.PolicyFile, spec: clusterfile.ClusterFile | None,
                     out: Path) -> list[str]:
    files = manifests.render(policy, spec)
    problems = validation.validate_files(files)
    if problems:
        first_path, first = next(iter(problems.items()))
        raise CLIError(f"{first_path}: {first[0]} ({sum(map(len, problems.values()))} "
                       f"problems; nothing written)", ExitCode.FAILURE)
    for path, text in files.items():
        atomic_write_text(out / path, text)
    return list(files)


@cli.command(epilog="Example: autoscale render --policy examples/policy.yaml --cluster "
                    "examples/cluster.yaml --out build/manifests")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path))
@click.option("--cluster", "cluster_file", type=click.Path(path_type=Path),
              help="adds the Karpenter NodePool and Cluster Autoscaler flags")
@click.option("--scaler", type=click.Choice(["hpa", "keda"]), help="override the policy's")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--check", is_flag=True, help="compare with --out instead of writing (exit 1)")
@click.pass_context
@expected_errors(AutoscaleError)
def render(ctx: click.Context, policy_file: Path | None, cluster_file: Path | None,
           scaler: str | None, out: Path, check: bool) -> None:
    """Render and validate HPA/ScaledObject, VPA, adapter rules, NodePool, CA flags and
    kustomize overlays from one policy file. Nothing is written if any manifest fails."""
    policy = policyfile.load(policy_file or _settings(ctx).policy_file)
    if scaler:
        policy = policy.model_copy(update={"scaler": scaler})
        policy = policyfile.parse(policy.model_dump(by_alias=True), "policy")
    spec = clusterfile.load(cluster_file) if cluster_file else None
    if check:
        files = manifests.render(policy, spec)
        stale = [p for p, text in files.items()
                 if not (out / p).is_file() or (out / p).read_text() != text]
        if stale:
            raise CLIError(f"{len(stale)} files differ from the policy: {', '.join(stale)}",
                           ExitCode.FAILURE)
        click.echo(f"{len(files)} files up to date")
        return
    written = _write_manifests(policy, spec, out)
    click.echo(f"wrote {len(written)} validated files to {out}")


@cli.command("monitoring", epilog="Example: autoscale monitoring --out deploy")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--check", is_flag=True, help="compare with --out instead of writing (exit 1)")
def monitoring_cmd(out: Path, check: bool) -> None:
    """Write the Prometheus rules and the Grafana dashboard."""
    files = monitoring.render_files()
    if check:
        stale = [p for p, t in files.items() if not (out / p).is_file()
                 or (out / p).read_text() != t]
        if stale:
            raise CLIError(f"stale: {', '.join(stale)}", ExitCode.FAILURE)
        click.echo(f"{len(files)} files up to date")
        return
    for path, text in files.items():
        atomic_write_text(out / path, text)
    click.echo(f"wrote {len(files)} files to {out}")


# --------------------------------------------------------------------------- advisor


def _split_deployment(value: str) -> tuple[str, str]:
    namespace, sep, name = value.partition("/")
    if not sep or not namespace or not name:
        raise CLIError(f"--deployment must be NAMESPACE/NAME (got {value!r})", ExitCode.USAGE)
    return namespace, name


@cli.command(epilog="Example: autoscale recommend --prometheus http://127.0.0.1:9090 "
                    "--deployment ml-serving/web --hours 24")
@click.option("--prometheus", "prometheus_url", help="Prometheus URL [settings]")
@click.option("--deployment", required=True, help="NAMESPACE/NAME")
@click.option("--hours", type=click.FloatRange(min=0.5), default=24.0, show_default=True)
@click.option("--step", type=click.FloatRange(min=10), default=60.0, show_default=True)
@click.option("--lead", type=click.FloatRange(min=0), default=180.0, show_default=True,
              help="seconds new capacity needs (pod + node start-up)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(AutoscaleError)
def recommend(ctx: click.Context, prometheus_url: str | None, deployment: str, hours: float,
              step: float, lead: float, as_json: bool) -> None:
    """HPA targets, VPA requests and a node-group mix from Prometheus history."""
    from autoscale.adapters.prometheus import PrometheusClient

    namespace, name = _split_deployment(deployment)
    url = prometheus_url or _settings(ctx).prometheus_url
    end = time.time()
    with PrometheusClient(url) as client:
        history = advisor.gather(client, namespace, name, end - hours * 3600, end, step)
    advice = advisor.advise(history, lead)
    if as_json:
        click.echo(json.dumps(_advice_dict(advice), indent=2))
        return
    print_table(f"{namespace}/{name}: recommendation", ("setting", "value"), [
        ("HPA cpu averageUtilization", f"{advice.hpa_cpu_target} %"),
        ("HPA http_requests_per_second averageValue", f"{advice.hpa_rps_target:.2f}"),
        ("HPA minReplicas / maxReplicas", f"{advice.min_replicas} / {advice.max_replicas}"),
        ("VPA cpu request (target)", quantity.cpu(advice.vpa.target.cpu)),
        ("VPA memory request (target)", quantity.memory(advice.vpa.target.memory)),
        ("VPA cpu bounds", f"{quantity.cpu(advice.vpa.lower_bound.cpu)} .. "
                           f"{quantity.cpu(advice.vpa.upper_bound.cpu)}"),
    ], console)
    print_table("node-group mix at peak", ("instance type", "capacity", "nodes", "pods",
                                           "$/hour"),
                [(s.instance_type, s.capacity, s.nodes, s.pods, f"{s.hourly_cost:.3f}")
                 for s in advice.node_mix], console)
    print_table("evidence", ("what", "value", "from"), advice.evidence, console)


def _advice_dict(advice: advisor.Advice) -> dict[str, Any]:
    return {
        "hpa": {"cpuAverageUtilization": advice.hpa_cpu_target,
                "requestsPerSecondAverageValue": round(advice.hpa_rps_target, 4),
                "minReplicas": advice.min_replicas, "maxReplicas": advice.max_replicas},
        "vpa": {"target": {"cpu": advice.vpa.target.cpu, "memory": advice.vpa.target.memory},
                "lowerBound": {"cpu": advice.vpa.lower_bound.cpu,
                               "memory": advice.vpa.lower_bound.memory},
                "upperBound": {"cpu": advice.vpa.upper_bound.cpu,
                               "memory": advice.vpa.upper_bound.memory},
                "confidence": advice.vpa.confidence},
        "nodeMix": [s.__dict__ for s in advice.node_mix],
        "evidence": {"peakRps": advice.peak_rps, "troughRps": advice.trough_rps,
                     "coresPerRps": advice.cores_per_rps,
                     "growthWithinLead": advice.growth_within_lead,
                     "perPodCapacityRps": advice.per_pod_capacity_rps},
    }


# --------------------------------------------------------------------------- controller


@cli.command(epilog="Example: autoscale controller --prometheus http://127.0.0.1:9090 "
                    "--policy examples/policy.yaml --once   (dry-run; add --apply to write)")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path))
@click.option("--prometheus", "prometheus_url", help="Prometheus URL [settings]")
@click.option("--kubeconfig", type=click.Path(path_type=Path), help="default: $KUBECONFIG")
@click.option("--apply/--dry-run", "apply", default=None,
              help="write to the API; the default is a dry-run [settings]")
@click.option("--mode", type=click.Choice(["scale", "hpa"]), default="scale",
              show_default=True,
              help="scale: patch the scale subresource itself; hpa: apply the HPA object")
@click.option("--once", is_flag=True, help="one sync, then exit")
@click.option("--interval", type=click.FloatRange(min=0.1), help="sync period [15 s]")
@click.pass_context
@expected_errors(AutoscaleError)
def controller(ctx: click.Context, policy_file: Path | None, prometheus_url: str | None,
               kubeconfig: Path | None, apply: bool | None, mode: str, once: bool,
               interval: float | None) -> None:
    """Scale a Deployment from Prometheus metrics with the HPA algorithm (dry-run by
    default, rate-limited, an Event per change, never on missing data)."""
    from autoscale.adapters.kube import KubeAdapter
    from autoscale.adapters.prometheus import PrometheusClient
    from autoscale.controller import Controller

    settings = _settings(ctx)
    policy = policyfile.load(policy_file or settings.policy_file)
    write = settings.controller.apply if apply is None else apply
    kube = KubeAdapter.from_environment(kubeconfig or settings.kubeconfig)
    if mode == "hpa":
        manifest = manifests.hpa_manifest(policy)
        problems = validation.errors(manifest)
        if problems:
            raise CLIError(f"HPA manifest invalid: {problems[0]}", ExitCode.FAILURE)
        if not write:
            click.echo(f"dry-run: would apply HPA {policy.namespace}/{policy.name}")
            return
        click.echo(f"HPA {policy.namespace}/{policy.name} {kube.apply_hpa(manifest)}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with PrometheusClient(prometheus_url or settings.prometheus_url) as prom:
        loop = Controller(policy, prom, kube, apply=write,
                          min_interval=settings.controller.min_change_interval_seconds,
                          clock=time.monotonic)
        period = interval or settings.controller.interval_seconds
        while True:
            outcome = loop.sync_once()
            verb = "scaled" if outcome.applied else "kept"
            click.echo(f"{policy.namespace}/{policy.target.name}: {verb} {outcome.current} -> "
                       f"{outcome.desired} ({outcome.reason})")
            if once or stop.wait(period):
                break


# --------------------------------------------------------------------------- forecaster


@cli.command(epilog="Examples:\n\n  autoscale forecaster --prometheus http://127.0.0.1:9090 "
                    "--port 9090\n\n  autoscale forecaster --trace examples/traces/spike.csv "
                    "--port 9091")
@click.option("--prometheus", "prometheus_url", help="read history from Prometheus")
@click.option("--trace", "trace_file", type=click.Path(path_type=Path),
              help="serve a fixed history from a trace instead")
@click.option("--host", help="listen address [settings: 127.0.0.1]")
@click.option("--port", type=click.IntRange(0, 65535), help="gRPC port [settings: 9090]")
@click.option("--metrics-port", type=click.IntRange(1, 65535),
              help="also export the forecast as a Prometheus metric on this port")
@click.option("--method", type=click.Choice(["holt-winters", "seasonal-naive"]),
              default="holt-winters", show_default=True)
@click.pass_context
@expected_errors(AutoscaleError)
def forecaster(ctx: click.Context, prometheus_url: str | None, trace_file: Path | None,
               host: str | None, port: int | None, metrics_port: int | None,
               method: str) -> None:
    """Serve the forecast as a KEDA external scaler (externalscaler.ExternalScaler)."""
    from autoscale.forecaster import server
    from autoscale.policies import predictive

    settings = _settings(ctx).forecaster
    source: Any
    if trace_file is not None:
        replay = traces.load(trace_file)
        source = server.StaticSource(replay.values, replay.step)
    else:
        from autoscale.adapters.prometheus import PrometheusClient

        source = server.PrometheusSource(
            PrometheusClient(prometheus_url or _settings(ctx).prometheus_url),
            days=settings.history_days)
    scaler = server.ExternalScaler(source, predictive.Method(method), settings.lead_seconds,
                                   on_answer=server.metrics_hook(metrics_port
                                                                 or settings.metrics_port))
    try:
        running = server.serve(scaler, host or settings.host,
                               settings.port if port is None else port)
    except OSError as exc:
        raise CLIError(str(exc), ExitCode.UNAVAILABLE) from exc
    click.echo(f"forecaster listening on {host or settings.host}:{running.port} "
               f"(externalscaler.ExternalScaler)", err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    running.stop()


main = cli
