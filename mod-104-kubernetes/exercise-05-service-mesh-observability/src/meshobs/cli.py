"""Command line for meshobs: parse, call the core, render. No logic lives here.

Exit codes (aiinfra_shared.cli.ExitCode): 0 ok; 1 failure (invalid manifests, a rolled-back
rollout, a bad certificate, stale rendered files); 2 usage; 3 config (mesh.yaml or
canary.yaml invalid); 4 not found; 5 unavailable (Prometheus, HAProxy, the collector); 70
internal.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import httpx
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, expected_errors
from aiinfra_shared.io import atomic_write_text
from rich.console import Console

from meshobs import __version__
from meshobs.config import Settings
from meshobs.errors import MeshobsError, NotFoundError, UnavailableError
from meshobs.spec import MeshSpec, default_spec, load_spec

console = Console(width=None if Console().is_terminal else 140)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


def _mesh(ctx: click.Context, mesh_file: Path | None) -> MeshSpec:
    path = mesh_file or _settings(ctx).mesh_file
    return load_spec(path) if path else default_spec()


def _admin(address: str) -> Any:
    from meshobs.adapters.haproxy import HAProxyAdmin

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise CLIError(f"--haproxy-admin must be host:port, got {address!r}", ExitCode.USAGE)
    return HAProxyAdmin(host, int(port))


mesh_option = click.option("--mesh", "mesh_file", type=click.Path(path_type=Path),
                           help="mesh.yaml (default: MESHOBS_MESH_FILE or the demo mesh)")


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="meshobs")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              envvar="MESHOBS_CONFIG", help="settings file (YAML/TOML); env MESHOBS_* wins")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Service mesh observability and progressive delivery for a model-serving stack.

    \b
    Examples:
      meshobs validate --mesh examples/mesh.yaml
      meshobs render --mesh examples/mesh.yaml --out deploy/mesh
      meshobs stack up                      # the demo: good and bad canary
      meshobs rollout run examples/canary.yaml --prometheus-url http://127.0.0.1:9090
      meshobs traces graph --url http://127.0.0.1:4318
    """
    ctx.obj = Settings.load(config_file)


# ---------------------------------------------------------------------- mesh config


@cli.command()
@mesh_option
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
@expected_errors(MeshobsError)
def validate(ctx: click.Context, mesh_file: Path | None, as_json: bool) -> None:
    """Render every manifest and validate it (kubernetes-validate, Istio models, schemas).

    \b
    Example:
      meshobs validate --mesh examples/mesh.yaml
    """
    from meshobs.render import istio, kustomize, linkerd
    from meshobs.validate import validate_manifest

    spec = _mesh(ctx, mesh_file)
    groups = {"kubernetes": kustomize.workloads(spec), "istio": istio.render(spec),
              "linkerd": linkerd.render(spec)}
    rows, problems = [], []
    for group, manifests in groups.items():
        for manifest in manifests:
            found = validate_manifest(manifest)
            problems += found
            rows.append((group, manifest["apiVersion"], manifest["kind"],
                         manifest["metadata"]["name"], "ok" if not found else "INVALID"))
    if as_json:
        echo_json({"valid": not problems, "manifests": len(rows), "problems": problems})
    else:
        from aiinfra_shared.cli import print_table

        print_table("rendered manifests", ["mesh", "apiVersion", "kind", "name", "result"],
                    rows, console)
    if problems:
        raise CLIError(f"{len(problems)} invalid: " + "; ".join(problems[:5]))


@cli.command()
@mesh_option
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="folder for base/, overlays/istio, overlays/linkerd, install/")
@click.option("--check", is_flag=True, help="only compare with the files there; exit 1 if stale")
@click.pass_context
@expected_errors(MeshobsError)
def render(ctx: click.Context, mesh_file: Path | None, out: Path, check: bool) -> None:
    """Write the Istio/Linkerd manifests, install values and kustomize overlays.

    \b
    Examples:
      meshobs render --out deploy/mesh
      meshobs render --out deploy/mesh --check     # CI: are the committed files current?
    """
    from meshobs.render.kustomize import bundle

    files = bundle(_mesh(ctx, mesh_file))
    if check:
        stale = [name for name, text in files.items()
                 if not (out / name).is_file() or (out / name).read_text() != text]
        if stale:
            raise CLIError(f"stale or missing under {out}: {', '.join(sorted(stale))}")
        click.echo(f"{len(files)} files under {out} are current")
        return
    for name, text in files.items():
        atomic_write_text(out / name, text)
    click.echo(f"wrote {len(files)} files under {out}")


# ---------------------------------------------------------------------- certificates


@cli.group()
def certs() -> None:
    """The mesh CA and workload certificates (SPIFFE IDs)."""


@certs.command("init")
@click.option("--dir", "directory", type=click.Path(path_type=Path))
@click.option("--trust-domain", default="cluster.local", show_default=True)
@click.pass_context
@expected_errors(MeshobsError)
def certs_init(ctx: click.Context, directory: Path | None, trust_domain: str) -> None:
    """Create the mesh CA (kept if it exists).

    \b
    Example:
      meshobs certs init --dir .meshobs/certs
    """
    from meshobs.pki import MeshCA

    ca = MeshCA.init(directory or _settings(ctx).certs_dir, trust_domain)
    click.echo(f"mesh CA: {ca.cert_path}")


@certs.command("issue")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(path_type=Path))
@click.option("--spiffe-id", help="default: spiffe://<trust-domain>/ns/<ns>/sa/NAME")
@mesh_option
@click.option("--ttl", type=click.IntRange(min=1), default=3600, show_default=True,
              help="lifetime in seconds")
@click.pass_context
@expected_errors(MeshobsError)
def certs_issue(ctx: click.Context, name: str, directory: Path | None,
                spiffe_id: str | None, mesh_file: Path | None, ttl: int) -> None:
    """Issue a workload certificate.

    \b
    Example:
      meshobs certs issue gateway --ttl 600
    """
    from meshobs.pki import MeshCA

    ca = MeshCA(directory or _settings(ctx).certs_dir)
    identity = spiffe_id or _mesh(ctx, mesh_file).spiffe_id(name)
    files = ca.issue(name, identity, dt.timedelta(seconds=ttl))
    cert = files.certificate()
    expires = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S")
    click.echo(f"{identity}: {files.cert_path} (expires {expires} UTC)")


@certs.command("check")
@click.argument("cert", type=click.Path(path_type=Path))
@click.option("--dir", "directory", type=click.Path(path_type=Path),
              help="the CA folder (its ca.pem is the trust anchor)")
@click.pass_context
@expected_errors(MeshobsError)
def certs_check(ctx: click.Context, cert: Path, directory: Path | None) -> None:
    """Verify a certificate: signed by the mesh CA, in its validity window, has a SPIFFE ID.

    \b
    Example:
      meshobs certs check .meshobs/certs/gateway/cert.pem
    """
    from cryptography import x509

    from meshobs import pki

    ca = pki.MeshCA(directory or _settings(ctx).certs_dir)
    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except FileNotFoundError as exc:
        raise NotFoundError(f"no certificate at {cert}") from exc
    except ValueError as exc:
        raise CLIError(f"{cert}: not a PEM certificate") from exc
    identity = pki.check_workload(certificate, ca.load().certificate)
    left = certificate.not_valid_after_utc - dt.datetime.now(dt.UTC)
    rotate = " (due for rotation)" if pki.needs_rotation(certificate) else ""
    click.echo(f"{identity}: valid, expires in {int(left.total_seconds())} s{rotate}")


# ---------------------------------------------------------------------- demo services


@cli.group()
def demo() -> None:
    """The demo stack's services (gateway, model, features)."""


@demo.command("serve")
@click.argument("role", type=click.Choice(["gateway", "model", "features"]))
@click.option("--version", "version", default="v1", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--admin-port", type=int, default=15020, show_default=True,
              help="plain HTTP: /metrics, /healthz, /admin/faults")
@click.option("--upstream", help="base URL of this workload's outbound sidecar listener")
@click.option("--tls/--no-tls", default=True, show_default=True,
              help="require mTLS client certificates on --port")
@click.option("--ca-dir", type=click.Path(path_type=Path), help="the mesh CA folder")
@click.option("--spiffe-id", help="this workload's identity")
@click.option("--allow", "allowed", multiple=True, help="SPIFFE ID allowed to call (repeat)")
@click.option("--cert-ttl", type=click.IntRange(min=2), default=3600, show_default=True)
@click.option("--otlp", "otlp", multiple=True, help="OTLP/HTTP base URL (repeat)")
@click.option("--zipkin", help="Zipkin base URL (spans as JSON v2 to /api/v2/spans)")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0)
@click.option("--latency-ms", type=click.FloatRange(0), default=0.0)
@click.pass_context
@expected_errors(MeshobsError)
def demo_serve(ctx: click.Context, role: str, version: str, host: str, port: int,
               admin_port: int, upstream: str | None, tls: bool, ca_dir: Path | None,
               spiffe_id: str | None, allowed: tuple[str, ...], cert_ttl: int,
               otlp: tuple[str, ...], zipkin: str | None, error_rate: float,
               latency_ms: float) -> None:
    """Run one workload (what a pod's container would run).

    \b
    Example:
      meshobs demo serve features --port 9001 --admin-port 9101 --ca-dir .meshobs/certs \\
        --spiffe-id spiffe://cluster.local/ns/serving/sa/features \\
        --allow spiffe://cluster.local/ns/serving/sa/model
    """
    from meshobs.demo.app import Faults, ServiceConfig
    from meshobs.demo.server import Identity, serve
    from meshobs.pki import MeshCA

    identity = None
    if tls:
        if not ca_dir or not spiffe_id:
            raise CLIError("--tls needs --ca-dir and --spiffe-id", ExitCode.USAGE)
        identity = Identity(MeshCA(ca_dir), f"{role}-{version}", spiffe_id,
                            dt.timedelta(seconds=cert_ttl))
    config = ServiceConfig(role=role, version=version, upstream=upstream,  # type: ignore[arg-type]
                           allowed_callers=list(allowed) if tls else None,
                           faults=Faults(error_rate=error_rate, latency_ms=latency_ms))
    serve(config, host, port, admin_port, identity, list(otlp), zipkin)


# ---------------------------------------------------------------------- traces


@cli.group()
def traces() -> None:
    """The trace collector: OTLP/HTTP and Zipkin ingest, service graph, critical paths."""


@traces.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=4318, show_default=True)
@click.option("--db", type=click.Path(path_type=Path), help="SQLite file")
@click.pass_context
@expected_errors(MeshobsError)
def traces_serve(ctx: click.Context, host: str, port: int, db: Path | None) -> None:
    """Accept OTLP/HTTP (POST /v1/traces) and Zipkin v2 (POST /api/v2/spans).

    \b
    Example:
      meshobs traces serve --port 4318 --db .meshobs/traces.sqlite
    """
    import uvicorn

    from meshobs.traces.sampling import TailPolicy
    from meshobs.traces.server import create_app
    from meshobs.traces.store import TraceStore

    settings = _settings(ctx)
    store = TraceStore(db or settings.traces_db)
    policy = TailPolicy(**settings.tail_sampling.model_dump())
    uvicorn.run(create_app(store, policy), host=host, port=port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=1)


def _collector(ctx: click.Context, url: str | None, path: str,
               params: dict[str, Any] | None = None) -> Any:
    base = (url or _settings(ctx).collector_url).rstrip("/")
    try:
        response = httpx.get(f"{base}{path}", params=params, timeout=10)
    except httpx.HTTPError as exc:
        raise UnavailableError(f"trace collector at {base} unreachable ({type(exc).__name__})"
                          ) from exc
    if response.status_code == 404:
        raise NotFoundError(response.json().get("detail", "not found"))
    if response.status_code != 200:
        raise UnavailableError(f"trace collector answered HTTP {response.status_code}")
    return response.json()


@traces.command("graph")
@click.option("--url", help="collector base URL")
@click.option("--window", type=click.FloatRange(min=1), default=300, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(MeshobsError)
def traces_graph(ctx: click.Context, url: str | None, window: float, as_json: bool) -> None:
    """The service graph: who calls whom, how often, how many errors, p95.

    \b
    Example:
      meshobs traces graph --url http://127.0.0.1:4318 --window 60
    """
    data = _collector(ctx, url, "/api/graph", {"window": window})
    if as_json:
        echo_json(data)
        return
    from aiinfra_shared.cli import print_table

    print_table(f"service graph (last {window:g} s)",
                ["source", "target", "requests", "errors", "rate/s", "p95 ms"],
                [(e["source"], e["target"], e["requests"], e["errors"],
                  f"{e['rate_per_s']:.2f}", f"{e['p95_ms']:.1f}") for e in data["edges"]],
                console)


@traces.command("show")
@click.argument("trace_id")
@click.option("--url", help="collector base URL")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(MeshobsError)
def traces_show(ctx: click.Context, trace_id: str, url: str | None, as_json: bool) -> None:
    """One trace's critical path.

    \b
    Example:
      meshobs traces show 4bf92f3577b34da6a3ce929d0e0e4736
    """
    data = _collector(ctx, url, f"/api/traces/{trace_id}/critical-path")
    if as_json:
        echo_json(data)
        return
    from aiinfra_shared.cli import print_table

    print_table(f"critical path of {trace_id}", ["service", "span", "duration ms", "self ms"],
                [(p["service"], p["name"], f"{p['duration_ms']:.2f}", f"{p['self_ms']:.2f}")
                 for p in data["path"]], console)


# ---------------------------------------------------------------------- traffic


def _parse_weights(pairs: tuple[str, ...]) -> dict[str, int]:
    weights: dict[str, int] = {}
    for pair in pairs:
        version, _, value = pair.partition("=")
        if not version or not value.isdigit():
            raise CLIError(f"weights are VERSION=PERCENT, got {pair!r}", ExitCode.USAGE)
        weights[version] = int(value)
    return weights


@cli.group()
def weights() -> None:
    """Traffic weights in the HAProxy data plane (runtime API, no reload)."""


@weights.command("set")
@click.argument("service")
@click.argument("pairs", nargs=-1, required=True)
@mesh_option
@click.option("--haproxy-admin", help="host:port of HAProxy's stats socket")
@click.pass_context
@expected_errors(MeshobsError)
def weights_set(ctx: click.Context, service: str, pairs: tuple[str, ...],
                mesh_file: Path | None, haproxy_admin: str | None) -> None:
    """Set SERVICE's weights, e.g. `meshobs weights set model v1=90 v2=10`.

    Checked against mesh.yaml first (known service and versions, sum 100).
    """
    from meshobs.adapters.haproxy import WeightRouter
    from meshobs.spec import Route, reference_problems

    spec = _mesh(ctx, mesh_file)
    wanted = _parse_weights(pairs)
    problems = reference_problems(spec.model_copy(update={
        "routes": [Route(service=service, weights=wanted)]}))
    if problems:
        raise CLIError("; ".join(problems).replace("routes[0].", ""), ExitCode.CONFIG)
    router = WeightRouter(_admin(haproxy_admin or _settings(ctx).haproxy_admin), service,
                          spec.services[service].callers)
    router.set_weights(wanted)
    click.echo(f"{service}: " + ", ".join(f"{v}={w}%" for v, w in wanted.items()))


@weights.command("get")
@click.argument("service")
@mesh_option
@click.option("--haproxy-admin", help="host:port of HAProxy's stats socket")
@click.pass_context
@expected_errors(MeshobsError)
def weights_get(ctx: click.Context, service: str, mesh_file: Path | None,
                haproxy_admin: str | None) -> None:
    """Show SERVICE's current weights as HAProxy applies them."""
    from meshobs.adapters.haproxy import WeightRouter

    spec = _mesh(ctx, mesh_file)
    if service not in spec.services:
        known = ", ".join(sorted(spec.services))
        raise NotFoundError(f"unknown service {service!r} (known: {known})")
    router = WeightRouter(_admin(haproxy_admin or _settings(ctx).haproxy_admin), service,
                          spec.services[service].callers)
    current = router.weights(spec.services[service].versions)
    click.echo(f"{service}: " + ", ".join(f"{v}={w}%" for v, w in current.items()))


# ---------------------------------------------------------------------- rollouts


@cli.group()
def rollout() -> None:
    """Progressive delivery: canary, A/B and blue-green analysis."""


@rollout.command("run")
@click.argument("canary_file", type=click.Path(path_type=Path))
@mesh_option
@click.option("--prometheus-url", help="default: MESHOBS_PROMETHEUS_URL")
@click.option("--haproxy-admin", help="host:port of HAProxy's stats socket")
@click.option("--status-dir", type=click.Path(path_type=Path))
@click.option("--metrics-port", type=int, help="expose rollout metrics on this port")
@click.option("--json", "as_json", is_flag=True, help="print the final status as JSON")
@click.pass_context
@expected_errors(MeshobsError)
def rollout_run(ctx: click.Context, canary_file: Path, mesh_file: Path | None,
                prometheus_url: str | None, haproxy_admin: str | None,
                status_dir: Path | None, metrics_port: int | None, as_json: bool) -> None:
    """Run a rollout to the end; exit 0 when promoted, 1 when rolled back.

    Every step (queries, values, thresholds, verdicts) is logged, written to
    <status-dir>/<service>.json and exported as metrics.

    \b
    Example:
      meshobs rollout run examples/canary.yaml --prometheus-url http://127.0.0.1:9090 \\
        --haproxy-admin 127.0.0.1:9999
    """
    from prometheus_client import CollectorRegistry

    from meshobs.adapters.haproxy import WeightRouter
    from meshobs.adapters.prometheus import PrometheusSource
    from meshobs.adapters.webhooks import HttpWebhooks
    from meshobs.delivery.runner import Rollout
    from meshobs.delivery.spec import load_canary
    from meshobs.delivery.status import FileStatus, MetricsStatus, status_document
    from meshobs.showcase import print_analysis, serve_metrics

    settings = _settings(ctx)
    mesh = _mesh(ctx, mesh_file)
    spec = load_canary(canary_file, mesh)
    source = PrometheusSource(prometheus_url or settings.prometheus_url)
    if not source.ready():
        raise UnavailableError(f"Prometheus at {source.url} unreachable")
    router = WeightRouter(_admin(haproxy_admin or settings.haproxy_admin), spec.service,
                          mesh.services[spec.service].callers)
    router.admin.command("show info")  # fail now, before any weight moves
    registry = CollectorRegistry()
    sinks: list[Any] = [FileStatus(status_dir or settings.status_dir),
                        MetricsStatus(registry)]
    stop = serve_metrics(registry, metrics_port) if metrics_port else None
    try:
        state = Rollout(spec, mesh, source, router, HttpWebhooks(), sinks).run()
    finally:
        if stop:
            stop()
    if as_json:
        echo_json(status_document(spec, state, {}))
    else:
        print_analysis(console, state, f"{spec.service}: {state.phase}")
    if state.phase != "Succeeded":
        raise CLIError(f"{spec.service}: {state.reason}")
    click.echo(f"{spec.service}: {state.reason}")


@rollout.command("status")
@click.argument("service")
@click.option("--status-dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(MeshobsError)
def rollout_status(ctx: click.Context, service: str, status_dir: Path | None,
                   as_json: bool) -> None:
    """Show the last recorded status of SERVICE's rollout: why it passed or failed."""
    path = (status_dir or _settings(ctx).status_dir) / f"{service}.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise NotFoundError(f"no rollout status for {service!r} at {path}") from exc
    if as_json:
        echo_json(doc)
        return
    click.echo(f"{doc['service']}: {doc['phase']} at {doc['canaryWeight']}% "
               f"({doc['failedChecks']}/{doc['threshold']} failed checks) {doc['reason']}")
    from aiinfra_shared.cli import print_table

    print_table("last checks", ["check", "query", "value", "threshold", "verdict"],
                [(c["name"], c["query"], "no data" if c["value"] is None else c["value"],
                  c["threshold"], c["verdict"]) for c in doc["lastChecks"]], console)


# ---------------------------------------------------------------------- deploy files / demo


@cli.command("deploy-files")
@click.option("--out", type=click.Path(path_type=Path), default=Path("deploy"),
              show_default=True)
@click.option("--check", is_flag=True, help="exit 1 if the files there are stale")
@expected_errors(MeshobsError)
def deploy_files(out: Path, check: bool) -> None:
    """Write the alert rules and the Grafana dashboard (deploy/prometheus, deploy/grafana)."""
    import yaml

    from meshobs.observability import alert_rules, dashboard

    files = {"prometheus/meshobs_alerts.yml": yaml.safe_dump(alert_rules(), sort_keys=False),
             "grafana/meshobs-rollouts.json": json.dumps(dashboard(), indent=2) + "\n"}
    if check:
        stale = [n for n, t in files.items()
                 if not (out / n).is_file() or (out / n).read_text() != t]
        if stale:
            raise CLIError(f"stale or missing under {out}: {', '.join(stale)}")
        click.echo("deploy files are current")
        return
    for name, text in files.items():
        atomic_write_text(out / name, text)
    click.echo(f"wrote {', '.join(files)} under {out}")


@cli.group()
def stack() -> None:
    """The whole local stack (make run)."""


@stack.command("up")
@mesh_option
@click.option("--dir", "directory", type=click.Path(path_type=Path),
              help="work folder (certs, logs, traces, status); default MESHOBS_STACK_DIR")
@click.option("--rate", type=click.FloatRange(min=1, max=200), default=25.0,
              show_default=True, help="user requests per second")
@click.pass_context
@expected_errors(MeshobsError)
def stack_up(ctx: click.Context, mesh_file: Path | None, directory: Path | None,
             rate: float) -> None:
    """Start everything, roll out a good and a bad canary, print the analysis logs.

    \b
    Example:
      meshobs stack up --rate 30
    """
    from meshobs.showcase import run_showcase

    good, bad = run_showcase(_mesh(ctx, mesh_file), directory or _settings(ctx).stack_dir,
                             console, rate)
    summary = {"good": asdict(good)["phase"], "bad": asdict(bad)["phase"]}
    click.echo(f"good canary: {summary['good']}, bad canary: {summary['bad']}")
    if good.phase != "Succeeded" or bad.phase != "Failed":
        raise CLIError("the demo did not end as expected (see the analysis logs above)")


main = cli
