"""`make run`: kmock's API emulator, a real Prometheus with backfilled model metrics, the
operator in a thread, and a sample MLModel taken through create -> ready -> canary ->
promotion. Prints the children and the finished canary."""

from __future__ import annotations

import copy
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from modelop import builders
from modelop.samples import openmetrics, revision_series
from modelop.spec import parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mlmodel-canary.yaml"
console = Console()


class DemoError(RuntimeError):
    """Something the demo needs is missing (kmock, prometheus)."""


def _sample() -> dict[str, Any]:
    if EXAMPLE.is_file():
        doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
        return doc
    raise DemoError(f"{EXAMPLE} is missing")


def _children_table(api: Any, namespace: str, name: str) -> None:
    from aiinfra_shared.cli import print_table

    body = api.get("MLModel", namespace, name) or {}
    rows = []
    for key in (body.get("status") or {}).get("children", []):
        kind, child = key.split("/", 1)
        live = api.get(kind, namespace, child) or {}
        spec = live.get("spec") or {}
        owner = ",".join(o["kind"] + "/" + o["name"]
                         for o in (live.get("metadata") or {}).get("ownerReferences", []))
        detail = ""
        if kind == "Deployment":
            labels = spec["template"]["metadata"]["labels"]
            detail = (f"replicas={spec.get('replicas')} ready="
                      f"{(live.get('status') or {}).get('readyReplicas', 0)} "
                      f"revision={labels.get(builders.LABEL_REVISION)}")
        elif kind == "Service":
            detail = "selector=" + ",".join(f"{k.split('/')[-1]}={v}"
                                            for k, v in spec["selector"].items())
        rows.append((kind, child, owner, detail))
    print_table(f"children of MLModel {namespace}/{name}", ["kind", "name", "owner", "detail"],
                rows)


def run_demo(step_seconds: float = 2.0) -> None:
    """The whole scenario; about 10 s."""
    try:
        from aiinfra_shared.procs.k8s import start_k8s_api
    except ImportError as exc:
        raise DemoError("kmock is not installed: run `uv sync` (dev group) first") from exc
    from aiinfra_shared.procs import start_prometheus
    from aiinfra_shared.procs.binaries import MissingBinaryError

    logging.getLogger("kopf").setLevel(logging.WARNING)  # the tables tell the story
    logging.getLogger("kopf._core.reactor.running").setLevel(logging.ERROR)  # "no signals"
    sample = _sample()
    meta = sample["metadata"]
    name, namespace = meta["name"], meta.get("namespace", "default")
    stable_only = copy.deepcopy(sample)
    canary_spec = stable_only["spec"].pop("canary")
    canary_spec["stepSeconds"] = int(step_seconds)
    candidate = parse_spec({**sample["spec"], "canary": canary_spec}).canary
    assert candidate is not None

    with tempfile.TemporaryDirectory(prefix="modelop-demo-") as tmp:
        work = Path(tmp)
        api_server = start_k8s_api(work / "k8s")
        prometheus = None
        operator = kubelet = None
        try:
            try:
                prometheus = start_prometheus(
                    work / "prometheus", {"global": {"scrape_interval": "15s"}},
                    backfill=openmetrics(revision_series(
                        namespace, name, candidate.predictor.revision, error_ratio=0.002,
                        latency_seconds=0.08)))
            except MissingBinaryError as exc:
                raise DemoError(f"{exc} (make setup installs Prometheus)") from exc
            console.print(f"[bold]API emulator[/] {api_server.url}   "
                          f"[bold]Prometheus[/] {prometheus.url} (backfilled metrics of "
                          f"revision {candidate.predictor.revision})")
            os.environ.update(KUBECONFIG=str(api_server.kubeconfig),
                              MODELOP_RESYNC_SECONDS="1", MODELOP_METRICS_PORT="0",
                              MODELOP_PROMETHEUS_URL=prometheus.url)
            from modelop.crd import crd_manifest

            api_server.declare_crd(crd_manifest())
            from modelop.adapters.kube import KubeApi
            from modelop.devcluster import FakeKubelet, OperatorThread, wait_until

            api = KubeApi(api_server.client())
            kubelet = FakeKubelet(lambda: api_server.list("apps/v1/deployments"), api).start()
            operator = OperatorThread().start()
            if operator.error is not None:
                raise DemoError(f"the operator did not start: {operator.error}")

            console.rule(f"1. create MLModel {name} ({stable_only['spec']['model']['uri']})")
            api.create(stable_only)
            wait_until(lambda: _condition(api, namespace, name, "Ready") == "True", 30,
                       what="Ready")
            _children_table(api, namespace, name)

            console.rule(f"2. canary {canary_spec['modelUri']} "
                         f"steps {canary_spec['steps']} gated by Prometheus")
            api.patch("MLModel", namespace, name, {"spec": {"canary": canary_spec}})
            seen: set[str] = set()

            def progressed() -> bool:
                rollout = ((api.get("MLModel", namespace, name) or {}).get("status") or {}) \
                    .get("rollout") or {}
                line = f"{rollout.get('phase')} {rollout.get('weight')}%: " \
                       f"{rollout.get('message')}"
                if rollout and line not in seen:
                    seen.add(line)
                    console.print(f"  {time.strftime('%H:%M:%S')} {line}")
                return rollout.get("phase") in ("Promoted", "RolledBack")

            wait_until(progressed, 60 + 4 * step_seconds * len(canary_spec["steps"]),
                       what="the canary to finish")
            _children_table(api, namespace, name)
            status = (api.get("MLModel", namespace, name) or {}).get("status") or {}
            console.print(f"[bold green]canary {status['rollout']['phase']}[/]: "
                          f"{status['rollout']['message']}; stable slot now "
                          f"{status['stableSlot']} (revision {status['stableRevision']})")
        finally:
            if operator is not None:
                operator.stop()
            if kubelet is not None:
                kubelet.stop()
            if prometheus is not None:
                prometheus.stop()
            api_server.stop()


def _condition(api: Any, namespace: str, name: str, kind: str) -> str | None:
    body = api.get("MLModel", namespace, name) or {}
    for cond in (body.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return str(cond.get("status"))
    return None
