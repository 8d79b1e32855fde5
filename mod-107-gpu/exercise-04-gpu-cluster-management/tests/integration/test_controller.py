"""The controller against kmock (the shared `k8s_api` fixture) through the official client.

kmock 0.8 answers 500 on /api/v1/namespaces: namespaces are assumed to exist; the test
covers namespaced objects and cluster-scoped CRs (and PriorityClasses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gpufleet import backfill, controller
from gpufleet import fleet as fleetfile
from gpufleet.promclient import PrometheusClient
from tests.helpers import EXAMPLES, run_cli
from tests.integration.conftest import MONTH, Backfilled

pytestmark = pytest.mark.integration
CRDS = [("kueue.x-k8s.io", "v1beta1", "clusterqueues", "ClusterQueue", False),
        ("kueue.x-k8s.io", "v1beta1", "localqueues", "LocalQueue", True),
        ("kueue.x-k8s.io", "v1beta1", "resourceflavors", "ResourceFlavor", False),
        ("nvidia.com", "v1", "clusterpolicies", "ClusterPolicy", False),
        ("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule", True),
        ("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor", True)]
CQ = "kueue.x-k8s.io/v1beta1/clusterqueues"


def declare(api: Any) -> None:
    for group, version, plural, kind, namespaced in CRDS:
        api.declare(group, version, plural, kind, namespaced=namespaced)


@pytest.mark.points(4)
def test_reconcile_creates_everything_and_a_second_pass_writes_nothing(k8s_api: Any) -> None:
    declare(k8s_api)
    fleet = fleetfile.load(EXAMPLES / "fleet.yaml")
    kube = controller.Kube(k8s_api.client())
    first = controller.reconcile(fleet, kube, None, now=0)
    assert len(first.changes) == 32 and all(c.action == "create" for c in first.changes)
    assert k8s_api.get(CQ, None, "llm")["spec"]["cohort"] == "research"
    assert k8s_api.get("v1/resourcequotas", "team-llm", "gpu-quota")["spec"]["hard"] == {
        "requests.nvidia.com/gpu": "30"}
    k8s_api.clear_requests()
    second = controller.reconcile(fleet, kube, None, now=0)
    assert second.changes == []
    assert k8s_api.writes() == []


@pytest.mark.points(2)
def test_dry_run_diff_writes_nothing_and_drift_is_repaired(k8s_api: Any) -> None:
    declare(k8s_api)
    fleet = fleetfile.load(EXAMPLES / "fleet.yaml")
    kube = controller.Kube(k8s_api.client())
    controller.reconcile(fleet, kube, None, now=0)
    queue = k8s_api.get(CQ, None, "batch")
    k8s_api.seed(CQ, None, "batch", {**queue, "spec": {**queue["spec"], "cohort": "rogue"}})
    k8s_api.clear_requests()
    dry = controller.reconcile(fleet, kube, None, now=0, apply=False)
    assert [c.line() for c in dry.changes] == ["update ClusterQueue batch (spec)"]
    assert k8s_api.writes() == []
    wet = controller.reconcile(fleet, kube, None, now=0)
    assert [(w.method, w.path) for w in k8s_api.writes()] == [
        ("PUT", "/apis/kueue.x-k8s.io/v1beta1/clusterqueues/batch")]
    assert wet.changes and k8s_api.get(CQ, None, "batch")["spec"]["cohort"] == "research"


@pytest.mark.points(2)
@pytest.mark.hidden
def test_an_interrupted_reconcile_resumes_with_only_the_rest(k8s_api: Any) -> None:
    declare(k8s_api)
    fleet = fleetfile.load(EXAMPLES / "fleet.yaml")
    kube = controller.Kube(k8s_api.client())
    desired = controller.render.render(fleet).documents
    for doc in desired[:10]:  # as if the first pass died after ten writes
        kube.write(doc, None)
    k8s_api.clear_requests()
    outcome = controller.reconcile(fleet, kube, None, now=0)
    assert len(outcome.changes) == 22
    assert len(k8s_api.writes()) == 22 and all(w.method == "POST" for w in k8s_api.writes())


@pytest.mark.points(4)
def test_exhausted_budget_holds_the_queue_and_the_next_month_lifts_it(
        k8s_api: Any, month_prometheus: Backfilled) -> None:
    declare(k8s_api)
    fleet = month_prometheus.fleet
    kube = controller.Kube(k8s_api.client())
    prom = PrometheusClient(month_prometheus.url)
    _, end = backfill.month_bounds(MONTH)
    outcome = controller.reconcile(fleet, kube, prom, now=end - 1)
    # vision's 100 GPU-hour budget is long spent by the end of the month; llm's 5000 is not
    assert outcome.held == frozenset({"vision"})
    assert k8s_api.get(CQ, None, "vision")["spec"]["stopPolicy"] == "Hold"
    assert k8s_api.get(CQ, None, "llm")["spec"]["stopPolicy"] == "None"
    rolled = controller.reconcile(fleet, kube, prom, now=end + 3600)
    assert rolled.held == frozenset()
    assert [c.line() for c in rolled.changes] == ["update ClusterQueue vision (spec)"]
    assert k8s_api.get(CQ, None, "vision")["spec"]["stopPolicy"] == "None"


@pytest.mark.points(2)
def test_controller_command_dry_run_through_the_entry_point(k8s_api: Any,
                                                            tmp_path: Path) -> None:
    declare(k8s_api)
    result = run_cli("controller", "--fleet", str(EXAMPLES / "fleet.yaml"), "--dry-run",
                     "--no-budgets", "--kubeconfig", str(k8s_api.kubeconfig))
    assert result.returncode == 0, result.stderr
    assert "would create ClusterQueue llm" in result.stdout
    assert result.stdout.strip().endswith("32 change(s) (dry run); budget hold: none")
    assert k8s_api.writes() == []
    down = run_cli("controller", "--fleet", str(EXAMPLES / "fleet.yaml"), "--no-budgets",
                   "--kubeconfig", str(_dead_kubeconfig(tmp_path)))
    assert down.returncode == 5
    errors = [line for line in down.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: reading ClusterPolicy: Kubernetes API unreachable (MaxRetryError)"]


def _dead_kubeconfig(tmp_path: Path) -> Path:
    import yaml
    from aiinfra_shared.procs.k8s import kubeconfig_dict

    path = tmp_path / "dead.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig_dict("http://127.0.0.1:9")))
    return path



