"""The operator as a process (`modelop run`), the way a Deployment runs it: admission
webhooks on kopf's webhook server, the /metrics endpoint, and peering between two
instances (one active). Separate processes also keep their logs apart (two KopfRunners in
one process would share one log capture)."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiinfra_shared.procs import free_port
from aiinfra_shared.testing.k8s import K8sApi

from modelop.manifests import peering_crds
from tests.support.cluster import (
    DEPLOYMENTS,
    create,
    mark_ready,
    mlmodel,
    poll,
    prepare,
    simple_spec,
)

pytestmark = pytest.mark.integration
MODELOP = str(Path(sys.executable).parent / "modelop")
VWC = "admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MWC = "admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"


def _review(spec: dict[str, Any], operation: str = "CREATE") -> dict[str, Any]:
    obj = mlmodel("candidate", spec)
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "0df28fbd-5f5f-11e8-bc74-36e6bb280816",
                        "kind": {"group": "aiinfra.dev", "version": "v1alpha1",
                                 "kind": "MLModel"},
                        "resource": {"group": "aiinfra.dev", "version": "v1alpha1",
                                     "resource": "mlmodels"},
                        "operation": operation, "namespace": "default", "name": "candidate",
                        "object": obj, "oldObject": None, "dryRun": False,
                        "userInfo": {"username": "alice"}}}


def _start(service_process: Callable[..., Any], name: str, *args: str,
           env: dict[str, str], port: int) -> Any:
    return service_process(name, [MODELOP, "--log-level", "INFO", "run", "-A", *args,
                                  "--liveness", f"http://127.0.0.1:{port}/healthz"],
                           env=env, ready_http=f"http://127.0.0.1:{port}/healthz",
                           timeout=60)


@pytest.mark.points(8)
def test_admission_webhooks_and_metrics(k8s_api: K8sApi, service_process: Callable[..., Any],
                                        ) -> None:
    prepare(k8s_api)
    metrics_port = free_port()
    env = {"MODELOP_WEBHOOK__ENABLED": "true", "MODELOP_WEBHOOK__INSECURE": "true",
           "MODELOP_WEBHOOK__ADDR": "127.0.0.1", "MODELOP_WEBHOOK__HOST": "127.0.0.1",
           "MODELOP_WEBHOOK__PORT": str(free_port()), "MODELOP_METRICS_PORT": str(metrics_port),
           "MODELOP_METRICS_ADDR": "127.0.0.1"}
    _start(service_process, "operator", env=env, port=free_port())

    # kopf wrote both webhook configurations; POST to the URL it registered
    vwc = poll(lambda: k8s_api.get(VWC, None, "modelop.aiinfra.dev"), timeout=30)
    mwc = poll(lambda: k8s_api.get(MWC, None, "modelop.aiinfra.dev"), timeout=30)
    hook = vwc["webhooks"][0]
    assert hook["rules"][0]["resources"] == ["mlmodels"]
    assert set(hook["rules"][0]["operations"]) == {"CREATE", "UPDATE"}
    url = hook["clientConfig"]["url"]
    bad = httpx.post(url, json=_review({
        "model": {"uri": "ftp://x/y", "framework": "sklearn"}, "replicas": 9,
        "autoscaling": {"maxReplicas": 3}, "canary": {"modelUri": "s3://x/z"}}), timeout=10)
    assert bad.status_code == 200
    answer = bad.json()["response"]
    assert answer["uid"] == "0df28fbd-5f5f-11e8-bc74-36e6bb280816"
    assert answer["allowed"] is False and answer["status"]["code"] == 422
    message = answer["status"]["message"]
    for part in ("unsupported scheme 'ftp'", "above spec.autoscaling.maxReplicas 3",
                 "a canary without gates"):
        assert part in message
    good = httpx.post(url, json=_review(simple_spec()), timeout=10).json()["response"]
    assert good["allowed"] is True

    mutate = httpx.post(mwc["webhooks"][0]["clientConfig"]["url"],
                        json=_review({"model": {"uri": "s3://m/1", "framework": "xgboost"}}),
                        timeout=10).json()["response"]
    assert mutate["allowed"] is True and mutate["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(mutate["patch"]))
    added = {op["path"]: op["value"] for op in ops}
    assert added["/spec/server"] == {"image": "docker.io/seldonio/mlserver:1.6.1-xgboost",
                                     "port": 8080}
    assert added["/spec/replicas"] == 1

    # reconciles are counted on /metrics
    create(k8s_api, mlmodel("churn", simple_spec()))
    poll(lambda: mark_ready(k8s_api, "churn-blue"), timeout=20)

    def scraped() -> str:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        return text if 'modelop_reconciles_total{result="ok",trigger="create"} 1.0' in text \
            else ""

    text = poll(scraped, timeout=20)
    assert 'modelop_api_writes_total{kind="Deployment",verb="Created"} 1.0' in text
    assert "modelop_reconcile_duration_seconds_bucket" in text


@pytest.mark.points(6)
def test_peering_keeps_one_instance_active(k8s_api: K8sApi,
                                           service_process: Callable[..., Any],
                                           ) -> None:
    prepare(k8s_api)
    for crd in peering_crds()[:2]:
        k8s_api.declare_crd(crd)
    k8s_api.seed("kopf.dev/v1/clusterkopfpeerings", None, "modelop", {})
    env = {"MODELOP_METRICS_PORT": "0"}
    low = _start(service_process, "standby", "--peering", "modelop", "--priority", "10",
                 env=env, port=free_port())
    high = _start(service_process, "active", "--peering", "modelop", "--priority", "20",
                  env=env, port=free_port())
    poll(lambda: "Pausing operations in favour of" in low.log_path.read_text(), timeout=30)
    create(k8s_api, mlmodel("first", simple_spec()))
    poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "first-blue"), timeout=20)
    poll(lambda: "Handler 'on_create' succeeded" in high.log_path.read_text(), timeout=10)
    assert "Handler 'on_create'" not in low.log_path.read_text()

    high.stop()  # a graceful exit removes it from the peering object
    poll(lambda: "Resuming operations after the pause" in low.log_path.read_text(), timeout=30)
    create(k8s_api, mlmodel("second", simple_spec()))
    poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "second-blue"), timeout=20)
    poll(lambda: "Handler 'on_create' succeeded" in low.log_path.read_text(), timeout=10)
