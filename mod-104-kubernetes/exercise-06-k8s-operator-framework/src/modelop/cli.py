"""Command line for modelop: parse, call the core, render. No logic lives here.

Exit codes: 0 ok, 1 an invalid MLModel or stale deploy/ files, 2 usage, 3 unreadable
config or manifest, 4 file not found, 5 cluster unreachable, 70 internal error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click
import yaml
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, expected_errors, print_table
from aiinfra_shared.config import ConfigError
from aiinfra_shared.io import atomic_write_text

from modelop import __version__, builders
from modelop.manifest_io import ManifestError, load_mlmodels
from modelop.spec import SpecError, parse_spec

DEPLOY_DIR = Path("deploy")


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="modelop")
def cli() -> None:
    """A kopf operator that deploys, scales, canaries and cleans up ML model servers
    from one MLModel custom resource.

    \b
    Examples:
      modelop demo                                  # local API emulator + operator + canary
      modelop validate examples/mlmodel.yaml        # the webhook's checks, offline
      modelop children examples/mlmodel.yaml        # what the operator would create
      modelop render --out deploy                   # CRD, RBAC, operator, kustomize overlays
      modelop run -A --peering modelop              # run the operator against $KUBECONFIG
    """


@cli.command()
@click.option("-A", "--all-namespaces", "clusterwide", is_flag=True, default=False,
              help="Watch every namespace (default when no --namespace is given).")
@click.option("-n", "--namespace", "namespaces", multiple=True,
              help="Watch only this namespace (repeatable; globs allowed).")
@click.option("--peering", default=None,
              help="Peering name: instances with the same name elect one active operator.")
@click.option("--priority", type=int, default=0, show_default=True,
              help="Peering priority: the highest-priority instance is the active one.")
@click.option("--webhook/--no-webhook", default=None,
              help="Serve the admission webhooks (overrides MODELOP_WEBHOOK__ENABLED).")
@click.option("--liveness", default=None,
              help="Liveness endpoint, e.g. http://0.0.0.0:8081/healthz")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="YAML/TOML settings file (env MODELOP_* overrides it).")
def run(clusterwide: bool, namespaces: tuple[str, ...], peering: str | None, priority: int,
        webhook: bool | None, liveness: str | None, config_file: Path | None) -> None:
    """Run the operator against the cluster in $KUBECONFIG (or in-cluster config).

    \b
    Examples:
      modelop run -A
      modelop run -n ml-serving --peering modelop --priority 100
      MODELOP_PROMETHEUS_URL=http://prometheus:9090 modelop run -A --webhook
    """
    if config_file is not None:
        if not config_file.is_file():
            raise CLIError(f"{config_file}: no such file", ExitCode.NOT_FOUND)
        os.environ["MODELOP_CONFIG_FILE"] = str(config_file)
    if webhook is not None:
        os.environ["MODELOP_WEBHOOK__ENABLED"] = "true" if webhook else "false"
    import kopf

    try:
        import modelop.handlers  # noqa: F401 - registers the handlers (reads the settings)
    except ConfigError as exc:
        raise CLIError(str(exc), ExitCode.CONFIG) from exc
    kopf.run(clusterwide=clusterwide or not namespaces, namespaces=list(namespaces),
             standalone=peering is None, peering_name=peering, priority=priority,
             liveness_endpoint=liveness)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEPLOY_DIR,
              show_default=True, help="Directory to write (base/ and overlays/).")
@click.option("--check", is_flag=True, help="Only compare; exit 1 when a file differs.")
def render(out: Path, check: bool) -> None:
    """Write the CRD, RBAC, operator Deployment and kustomize overlays.

    \b
    Examples:
      modelop render --out deploy
      modelop render --check          # CI: are the committed files what the code renders?
      kubectl apply -k deploy/overlays/prod
    """
    from modelop.manifests import render as render_files

    files = render_files()
    stale = [rel for rel, text in files.items()
             if not (out / rel).is_file() or (out / rel).read_text() != text]
    if check:
        if stale:
            raise CLIError(f"stale files under {out}: {', '.join(stale)} "
                           "(run: modelop render)", ExitCode.FAILURE)
        click.echo(f"{len(files)} files under {out} are up to date")
        return
    for rel, text in files.items():
        atomic_write_text(out / rel, text)
    click.echo(f"wrote {len(files)} files under {out} ({len(stale)} changed)")


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
@expected_errors(ManifestError)
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check MLModel manifests with the admission webhook's rules, offline.

    \b
    Examples:
      modelop validate examples/mlmodel.yaml examples/mlmodel-canary.yaml
      modelop validate --json bad.yaml; echo $?      # 1 when any model is invalid
    """
    results: list[dict[str, Any]] = []
    for path in files:
        for doc in load_mlmodels(path):
            name = (doc.get("metadata") or {}).get("name", "?")
            try:
                parse_spec(doc.get("spec"))
                results.append({"file": str(path), "name": name, "valid": True,
                                "problems": []})
            except SpecError as exc:
                results.append({"file": str(path), "name": name, "valid": False,
                                "problems": exc.problems})
    if as_json:
        echo_json(results)
    else:
        print_table("MLModel validation", ["file", "name", "result"],
                    [(r["file"], r["name"], "ok" if r["valid"] else "; ".join(r["problems"]))
                     for r in results])
    invalid = [r for r in results if not r["valid"]]
    if invalid:
        raise CLIError(f"{len(invalid)} of {len(results)} MLModel(s) invalid: "
                       + " | ".join(f"{r['name']}: {r['problems'][0]}" for r in invalid),
                       ExitCode.FAILURE)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--weight", type=click.IntRange(0, 99), default=None,
              help="Show the children during a canary step at this weight.")
@click.option("-o", "--output", type=click.Choice(["table", "yaml"]), default="table",
              show_default=True)
@expected_errors(ManifestError)
def children(file: Path, weight: int | None, output: str) -> None:
    """Print the children the operator would create for an MLModel manifest.

    \b
    Examples:
      modelop children examples/mlmodel.yaml
      modelop children examples/mlmodel-canary.yaml --weight 50 -o yaml
    """
    rows: list[tuple[str, str, str]] = []
    docs: list[dict[str, Any]] = []
    for doc in load_mlmodels(file):
        meta = doc.get("metadata") or {}
        name, namespace = meta.get("name", "model"), meta.get("namespace", "default")
        try:
            spec = parse_spec(doc.get("spec"))
        except SpecError as exc:
            raise CLIError(f"{file}: {name}: {exc}", ExitCode.FAILURE) from exc
        traffic = builders.Traffic(stable_slot=builders.SLOTS[0], stable=spec.predictor)
        if weight is not None and spec.canary is not None:
            traffic = builders.Traffic(
                stable_slot=builders.SLOTS[0], stable=spec.predictor,
                canary_slot=builders.SLOTS[1], canary=spec.canary.predictor, weight=weight,
                routing=spec.canary.routing, gateway=spec.canary.gateway)
        for child in builders.build_children(name, namespace, spec, traffic):
            docs.append(child)
            rows.append((child["kind"], child["metadata"]["name"], _summary(child)))
    if output == "yaml":
        click.echo("---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs), nl=False)
    else:
        print_table(f"children of {file}", ["kind", "name", "summary"], rows)


def _summary(child: dict[str, Any]) -> str:
    spec = child.get("spec") or {}
    kind = child["kind"]
    if kind == "Deployment":
        container = spec["template"]["spec"]["containers"][0]
        replicas = spec.get("replicas", "HPA")
        return f"replicas={replicas} image={container['image']}"
    if kind == "Service":
        return "selector=" + ",".join(f"{k.split('/')[-1]}={v}"
                                      for k, v in spec["selector"].items())
    if kind == "HorizontalPodAutoscaler":
        return f"{spec['minReplicas']}-{spec['maxReplicas']} -> {spec['scaleTargetRef']['name']}"
    if kind in ("VirtualService", "HTTPRoute"):
        return "weights=" + "/".join(str(w) for w in _weights(child))
    if kind == "ConfigMap":
        return "keys=" + ",".join(sorted(child.get("data") or {}))
    return ""


def _weights(route: dict[str, Any]) -> list[int]:
    if route["kind"] == "VirtualService":
        return [int(r["weight"]) for r in route["spec"]["http"][0]["route"]]
    return [int(b["weight"]) for b in route["spec"]["rules"][0]["backendRefs"]]


@cli.command()
@click.option("-n", "--namespace", default=None, help="Only this namespace (default: all).")
def get(namespace: str | None) -> None:
    """List MLModels with their conditions and canary state (kubectl-like).

    \b
    Examples:
      modelop get
      modelop get -n ml-serving
    """
    from modelop.adapters.kube import ApiError, KubeApi

    logging.getLogger("urllib3").setLevel(logging.ERROR)  # its retry warnings are noise here
    try:
        api = KubeApi.from_kubeconfig()
        items = api.list("MLModel", namespace)
    except ApiError as exc:
        raise CLIError(f"cluster unreachable: {exc}", ExitCode.UNAVAILABLE) from exc
    except Exception as exc:  # config errors from the client, connection refused
        raise CLIError(f"cluster unreachable: {str(exc).splitlines()[0]}",
                       ExitCode.UNAVAILABLE) from exc
    print_table("MLModels", ["namespace", "name", "ready", "replicas", "canary", "message"],
                [_row(item) for item in items])


def _row(item: dict[str, Any]) -> tuple[str, ...]:
    meta, status = item.get("metadata") or {}, item.get("status") or {}
    conds = {c["type"]: c for c in status.get("conditions") or []}
    ready = conds.get("Ready", {})
    rollout = status.get("rollout") or {}
    canary = f"{rollout.get('phase')} {rollout.get('weight')}%" if rollout else "-"
    return (meta.get("namespace", ""), meta.get("name", ""), ready.get("status", "Unknown"),
            f"{status.get('readyReplicas', 0)}/{(item.get('spec') or {}).get('replicas', 1)}",
            canary, ready.get("message", ""))


@cli.command()
@click.option("--step-seconds", type=float, default=2.0, show_default=True,
              help="Time per canary step in the demo.")
def demo(step_seconds: float) -> None:
    """Start a local API emulator, Prometheus and the operator; deploy a sample MLModel,
    print its children, run a canary to promotion, print the result.

    \b
    Examples:
      modelop demo
      modelop demo --step-seconds 5
    """
    from modelop.demo import DemoError, run_demo

    try:
        run_demo(step_seconds=step_seconds)
    except DemoError as exc:
        raise CLIError(str(exc), ExitCode.UNAVAILABLE) from exc


main = cli
