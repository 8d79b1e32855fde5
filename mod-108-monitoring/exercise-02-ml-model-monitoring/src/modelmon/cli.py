"""Command line for modelmon: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import httpx
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, NotFoundError, UnavailableError
from aiinfra_shared.cli import echo_json as _echo_json
from aiinfra_shared.io import atomic_write_text
from rich.console import Console
from rich.table import Table

from modelmon import __version__

GRADE_STYLE = {"green": "bold green", "amber": "bold yellow", "red": "bold red",
               "unknown": "dim"}


def _settings(ctx: click.Context) -> Any:
    from modelmon.config import Settings

    obj = ctx.find_root().obj
    if "settings" not in obj:
        obj["settings"] = Settings.load(obj.get("config"))
    return obj["settings"]


@click.group(cls=AppGroup, epilog="""\b
Examples:
  modelmon stack up --duration 120        # whole stack + traffic, drift after 20 s
  modelmon reference --out data/reference.json
  modelmon serve & modelmon exporter & modelmon receiver &
  modelmon traffic --rate 20 --drift 1.5 --drift-after 60
  modelmon scorecard churn --prometheus-url http://127.0.0.1:9090 --html card.html
  modelmon render --out deploy            # Prometheus/Alertmanager/Grafana files
""")
@click.version_option(__version__, prog_name="modelmon")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              envvar="MODELMON_CONFIG",
              help="YAML/TOML config file (env vars MODELMON_* override it).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """ML model monitoring with Prometheus: instrument, export model metrics, alert, grade.

    Exit codes: 0 ok, 1 failure (e.g. scorecard below --fail-on), 2 usage, 3 config,
    4 not found, 5 unavailable, 70 internal.
    """
    ctx.obj = {"config": config_file}


def _serve(app: Any, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@cli.command()
@click.option("--port", type=int, default=None, help="Override service.port.")
@click.pass_context
def serve(ctx: click.Context, port: int | None) -> None:
    """Run the instrumented demo model service (POST /models/MODEL/predict, /feedback).

    \b
    Example:
      modelmon serve --port 8080
      curl -XPOST localhost:8080/models/churn/predict -d '{"features":{"f0":1}}' \\
           -H 'content-type: application/json'
    """
    from modelmon.service import create_app

    s = _settings(ctx).service
    _serve(create_app(s), s.host, port or s.port)


@cli.command()
@click.option("--port", type=int, default=None, help="Override exporter.port.")
@click.pass_context
def exporter(ctx: click.Context, port: int | None) -> None:
    """Run the ML exporter: drift, accuracy and data quality on /metrics.

    Reads the prediction and label logs, keeps a sliding window per model version and
    recomputes every exporter.interval_seconds.

    \b
    Example:
      MODELMON_EXPORTER__WINDOW_SECONDS=120 modelmon exporter --port 9108
    """
    from modelmon.exporter import Exporter, create_app
    from modelmon.reference import ReferenceError

    s = _settings(ctx).exporter
    try:
        instance = Exporter.from_settings(s)
    except ReferenceError as exc:
        raise CLIError(str(exc), ExitCode.CONFIG) from exc
    _serve(create_app(instance), s.host, port or s.port)


@cli.command()
@click.option("--port", type=int, default=None, help="Override receiver.port.")
@click.pass_context
def receiver(ctx: click.Context, port: int | None) -> None:
    """Run the Alertmanager webhook receiver (records alerts, opens retraining requests).

    \b
    Example:
      modelmon receiver --port 9109    # Alertmanager webhook url: http://HOST:9109/webhook/page
    """
    from modelmon.receiver import create_app

    s = _settings(ctx).receiver
    _serve(create_app(s.data_dir), s.host, port or s.port)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("data/reference.json"),
              show_default=True, help="Where to write the reference profile.")
@click.option("--model", default="churn", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def reference(out: Path, model: str, seed: int) -> None:
    """Write the demo model's reference profile (feature samples, ranges, baseline quality).

    \b
    Example:
      modelmon reference --out data/reference.json
    """
    from modelmon.demo_model import write_reference

    profile = write_reference(out, model, seed)
    click.echo(f"wrote {out} (model {model}, {len(profile['features'])} features, "
               f"baseline accuracy {profile['baseline']['accuracy']:.3f})")


def _service_url(ctx: click.Context, url: str | None) -> str:
    s = _settings(ctx).service
    return (url or f"http://{s.host}:{s.port}").rstrip("/")


@cli.command()
@click.option("--service-url", default=None, help="Default: from service.host/port.")
@click.option("--model", default=None, help="Default: service.model.")
@click.option("--rate", type=float, default=20.0, show_default=True,
              help="Requests per second (0 = as fast as possible).")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after N requests.")
@click.option("--duration", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds (default: run until Ctrl-C or --count).")
@click.option("--drift", type=float, default=0.0, show_default=True,
              help="Shift features f0/f1 by this many standard deviations.")
@click.option("--drift-after", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds of clean traffic before the drift starts.")
@click.option("--label-noise", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of ground-truth labels flipped (accuracy drops).")
@click.option("--null-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests with one feature missing.")
@click.option("--label-delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds between a prediction and its ground-truth label.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=None,
              help="Also inject this much latency into the service.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=None,
              help="Also make the service fail this share of requests.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def traffic(ctx: click.Context, service_url: str | None, model: str | None, rate: float,
            count: int | None, duration: float | None, drift: float, drift_after: float,
            label_noise: float, null_rate: float, label_delay: float,
            latency_ms: float | None, error_rate: float | None, seed: int,
            as_json: bool) -> None:
    """Send predictions (and, later, their true labels) to the demo service.

    \b
    Examples:
      modelmon traffic --count 500 --rate 0                    # clean burst
      modelmon traffic --rate 20 --drift 1.5 --drift-after 60  # drift after a minute
      modelmon traffic --duration 60 --label-noise 0.3         # accuracy drops
    """
    from modelmon.traffic import TrafficConfig, run_traffic

    config = TrafficConfig(
        service_url=_service_url(ctx, service_url), model=model or _settings(ctx).service.model,
        rate=rate, count=count, duration=duration, drift=drift, drift_after=drift_after,
        label_noise=label_noise, null_rate=null_rate, label_delay=label_delay, seed=seed,
        latency_ms=latency_ms, error_rate=error_rate)
    try:
        result = run_traffic(config)
    except httpx.HTTPError as exc:
        raise UnavailableError(f"demo service at {config.service_url}: {exc}") from exc
    if as_json:
        _echo_json(asdict(result))
    else:
        click.echo(f"sent {result.sent} requests ({result.ok} ok, {result.errors} errors), "
                   f"{result.labels_sent} labels")


@cli.command()
@click.option("--service-url", default=None, help="Default: from service.host/port.")
@click.option("--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, show_default=True)
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.pass_context
def inject(ctx: click.Context, service_url: str | None, latency_ms: float,
           error_rate: float) -> None:
    """Inject latency and errors into a running demo service (0 and 0 clears them).

    \b
    Example:
      modelmon inject --latency-ms 800 --error-rate 0.2
    """
    from modelmon.traffic import set_faults

    url = _service_url(ctx, service_url)
    try:
        with httpx.Client(timeout=10) as client:
            faults = set_faults(client, url, latency_ms, error_rate)
    except httpx.HTTPError as exc:
        raise UnavailableError(f"demo service at {url}: {exc}") from exc
    click.echo(f"faults now: latency {faults['latency_ms']:.0f} ms, "
               f"error rate {faults['error_rate']:.0%}")


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("deploy"),
              show_default=True, help="Directory to write into.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if the files under --out differ from the code.")
@click.pass_context
def render(ctx: click.Context, out: Path, check: bool) -> None:
    """Render Prometheus config + rules, Alertmanager config and Grafana dashboards.

    Alerts link their runbook at the runbook_base_url setting.

    \b
    Examples:
      modelmon render --out deploy
      modelmon render --out deploy --check     # CI: committed files match the code
      MODELMON_RUNBOOK_BASE_URL=https://wiki.example.org/ml/runbooks modelmon render --out x
    """
    from modelmon.render import render_files, write_files
    from modelmon.rules import RuleParams

    settings = _settings(ctx)
    files = render_files(RuleParams(runbook_base_url=settings.runbook_base_url))
    if check:
        stale = [rel for rel, text in files.items()
                 if not (out / rel).is_file() or (out / rel).read_text() != text]
        if stale:
            raise CLIError(f"out of date under {out}: {', '.join(stale)} "
                           "(run `modelmon render`)", ExitCode.FAILURE)
        click.echo(f"{len(files)} files under {out} are up to date")
        return
    for path in write_files(out, files):
        click.echo(f"wrote {path}")


@cli.command()
@click.argument("model")
@click.option("--version", "model_version", default=None, help="Only this model version.")
@click.option("--window", default="5m", show_default=True,
              help="PromQL range for rates (e.g. 1m, 15m).")
@click.option("--prometheus-url", default=None, help="Default: prometheus_url setting.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Also write an HTML page here.")
@click.option("--fail-on", type=click.Choice(["red", "amber", "never"]), default="never",
              show_default=True, help="Exit 1 when the overall grade is this bad or worse.")
@click.pass_context
def scorecard(ctx: click.Context, model: str, model_version: str | None, window: str,
              prometheus_url: str | None, as_json: bool, html_path: Path | None,
              fail_on: str) -> None:
    """Grade MODEL: availability, latency SLO, accuracy, drift and data quality.

    Queries Prometheus' HTTP API; every grade comes with the numbers behind it.

    \b
    Examples:
      modelmon scorecard churn
      modelmon scorecard churn --version v1 --window 15m --json
      modelmon scorecard churn --html scorecard.html --fail-on red
    """
    from modelmon.adapters.prometheus import (
        PrometheusClient,
        PrometheusQueryError,
        PrometheusUnavailableError,
    )
    from modelmon.scorecard import ModelNotFoundError, collect, grade, render_html

    settings = _settings(ctx)
    url = (prometheus_url or settings.prometheus_url).rstrip("/")
    client = PrometheusClient(url)
    try:
        inputs = collect(client, model, model_version, window)
    except PrometheusUnavailableError as exc:
        raise UnavailableError(str(exc)) from exc
    except PrometheusQueryError as exc:
        raise CLIError(f"{exc} (is --window a valid PromQL duration?)", ExitCode.USAGE) from exc
    except ModelNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc
    finally:
        client.close()
    card = grade(inputs, settings.thresholds, now=time.time())
    if html_path is not None:
        atomic_write_text(html_path, render_html(card))
    if as_json:
        _echo_json(card.to_dict())
    else:
        title = f"Scorecard {model}" + (f" {model_version}" if model_version else "") + \
            f" (window {window}): [{GRADE_STYLE[card.overall]}]{card.overall}[/]"
        table = Table(title=title)
        for column in ("check", "grade", "value", "why"):
            table.add_column(column)
        for check in card.checks:
            value = "" if check.value is None else f"{check.value:.4g}"
            table.add_row(check.name, f"[{GRADE_STYLE[check.grade]}]{check.grade}[/]", value,
                          check.detail)
        Console().print(table)
        if html_path is not None:
            click.echo(f"wrote {html_path}")
    order = {"green": 0, "unknown": 0, "amber": 1, "red": 2}
    if fail_on != "never" and order[card.overall] >= order[fail_on]:
        raise CLIError(f"overall grade {card.overall}", ExitCode.FAILURE)


@cli.command()
@click.option("--receiver-url", default=None, help="Default: from receiver.host/port.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def alerts(ctx: click.Context, receiver_url: str | None, as_json: bool) -> None:
    """List the alert notifications the receiver got, and open retraining requests.

    \b
    Example:
      modelmon alerts --receiver-url http://127.0.0.1:9109
    """
    s = _settings(ctx).receiver
    url = (receiver_url or f"http://{s.host}:{s.port}").rstrip("/")
    try:
        with httpx.Client(timeout=10) as client:
            received = client.get(f"{url}/alerts").raise_for_status().json()
            requests = client.get(f"{url}/retraining-requests").raise_for_status().json()
    except httpx.HTTPError as exc:
        raise UnavailableError(f"alert receiver at {url}: {exc}") from exc
    if as_json:
        _echo_json({"alerts": received, "retraining_requests": requests})
        return
    table = Table(title=f"Alerts received ({len(received)})")
    for column in ("received", "channel", "status", "alert", "model", "severity", "summary"):
        table.add_column(column)
    for alert in received[-50:]:
        labels = alert.get("labels", {})
        table.add_row(time.strftime("%H:%M:%S", time.localtime(alert["received_at"])),
                      alert["channel"], alert["status"], labels.get("alertname", ""),
                      labels.get("model", ""), labels.get("severity", ""),
                      alert.get("annotations", {}).get("summary", ""))
    console = Console()
    console.print(table)
    req_table = Table(title=f"Retraining requests ({len(requests)})")
    for column in ("id", "model", "version", "status", "reasons"):
        req_table.add_column(column)
    for request in requests:
        req_table.add_row(request["id"], request["model"], request["version"],
                          request["status"], ", ".join(request["reasons"]))
    console.print(req_table)


@cli.group()
def stack() -> None:
    """Run the whole stack locally (service, exporter, Prometheus, Alertmanager, receiver)."""


@stack.command("up")
@click.option("--workdir", type=click.Path(path_type=Path), default=Path(".run"),
              show_default=True, help="Logs, data and server state go here.")
@click.option("--duration", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Stop after this many seconds (0: until Ctrl-C).")
@click.option("--rate", type=float, default=20.0, show_default=True, help="Requests/s.")
@click.option("--drift", type=float, default=2.0, show_default=True,
              help="Feature shift injected after --drift-after seconds.")
@click.option("--drift-after", type=click.FloatRange(min=0), default=20.0, show_default=True)
def stack_up(workdir: Path, duration: float, rate: float, drift: float,
             drift_after: float) -> None:
    """Start everything, drive traffic (drift after a while), print where to look.

    \b
    Example:
      modelmon stack up --duration 120     # then: modelmon scorecard churn --prometheus-url ...
    """
    from modelmon.stack import start_stack
    from modelmon.traffic import TrafficConfig

    console = Console(stderr=True)
    traffic_config = TrafficConfig(rate=rate, drift=drift, drift_after=drift_after,
                                   label_delay=1.0)
    with console.status("starting the stack") as status:
        running = start_stack(workdir, traffic_config,
                              progress=lambda msg: status.update(msg))
    try:
        table = Table(title="modelmon stack (Ctrl-C stops)")
        table.add_column("component")
        table.add_column("where to look")
        urls = running.urls
        for name, path in [("service", "/metrics"), ("exporter", "/metrics"),
                           ("prometheus", "/alerts"), ("alertmanager", "/#/alerts"),
                           ("receiver", "/alerts")]:
            table.add_row(name, f"{urls[name]}{path}")
        table.add_row("logs", str(running.workdir))
        table.add_row("scorecard",
                      f"modelmon scorecard churn --window 1m --prometheus-url "
                      f"{urls['prometheus']}")
        table.add_row("alerts", f"modelmon alerts --receiver-url {urls['receiver']}")
        Console().print(table)
        click.echo(f"traffic: {rate:g} req/s, drift {drift:g} sd after {drift_after:g} s")
        deadline = time.monotonic() + duration if duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1)
        ctx = click.get_current_context()
        ctx.invoke(scorecard, model="churn", window="1m",
                   prometheus_url=urls["prometheus"])
        ctx.invoke(alerts, receiver_url=urls["receiver"])
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        running.stop()


main = cli
