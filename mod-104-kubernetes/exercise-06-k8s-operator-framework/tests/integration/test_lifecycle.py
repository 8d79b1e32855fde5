"""The operator (kopf, in process) against kmock through the official client: create,
update, drift repair by the timer, resume, delete with the finalizer, and no writes when
nothing changed."""

from __future__ import annotations

import time

import pytest
from aiinfra_shared.testing.k8s import K8sApi

from modelop.config import Settings
from tests.support.cluster import (
    DEPLOYMENTS,
    apps,
    condition,
    core,
    create,
    delete,
    events,
    is_true,
    mark_ready,
    mlmodel,
    model,
    operator,
    patch_spec,
    poll,
    prepare,
    simple_spec,
)

pytestmark = pytest.mark.integration
CACHE = ("v1/configmaps", "default", "modelop-model-cache")


@pytest.mark.points(10)
def test_create_update_drift_and_delete(k8s_api: K8sApi) -> None:
    prepare(k8s_api)
    spec = simple_spec(disruptionBudget={"minAvailable": 1},
                       monitoring={"serviceMonitor": True})
    with operator():
        body = create(k8s_api, mlmodel("churn", spec))
        uid = body["metadata"]["uid"]
        dep = poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-blue"))
        # every child carries the controller owner reference (kopf.adopt)
        keys = {"ConfigMap": ("v1/configmaps", "churn-config"),
                "Deployment": (DEPLOYMENTS, "churn-blue"),
                "Service": ("v1/services", "churn"),
                "PodDisruptionBudget": ("policy/v1/poddisruptionbudgets", "churn"),
                "ServiceMonitor": ("monitoring.coreos.com/v1/servicemonitors", "churn")}
        children = {kind: poll(lambda r=res, n=name: k8s_api.get(r, "default", n))
                    for kind, (res, name) in keys.items()}
        for kind, child in children.items():
            refs = child["metadata"]["ownerReferences"]
            assert [(r["kind"], r["name"], r["uid"], r["controller"]) for r in refs] == \
                [("MLModel", "churn", uid, True)], kind
        assert dep["spec"]["replicas"] == 2
        assert children["Service"]["spec"]["selector"] == {
            "aiinfra.dev/model": "churn", "aiinfra.dev/slot": "blue"}
        cache = poll(lambda: k8s_api.get(*CACHE))
        assert cache["data"] == {"default.churn": "s3://models/churn/v1"}

        # pods not ready yet: Progressing, not Ready; then ready: Ready with observedGeneration
        poll(lambda: condition(k8s_api, "churn", "Ready"))
        assert not is_true(k8s_api, "churn", "Ready")
        assert is_true(k8s_api, "churn", "Progressing")
        mark_ready(k8s_api, "churn-blue")
        poll(lambda: is_true(k8s_api, "churn", "Ready"), timeout=10)
        status = model(k8s_api, "churn")["status"]  # type: ignore[index]
        assert status["observedGeneration"] == 1 and status["readyReplicas"] == 2
        assert sorted(status["children"]) == sorted(f"{k}/{n}" for k, (_, n) in keys.items())
        reasons = {(t, r) for t, r, _ in events(k8s_api, "churn")}
        assert ("Normal", "Created") in reasons

        # update: scaled, and the new generation observed
        patch_spec(k8s_api, "churn", {"replicas": 3})
        poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-blue")["spec"]["replicas"] == 3)
        mark_ready(k8s_api, "churn-blue")
        poll(lambda: (condition(k8s_api, "churn", "Ready") or {}).get("observedGeneration") == 2
             and is_true(k8s_api, "churn", "Ready"))

        # drift: a child scaled and edited by hand, another deleted: the timer repairs both
        apps(k8s_api).patch_namespaced_deployment("churn-blue", "default", {"spec": {
            "replicas": 7, "template": {"spec": {"containers": [
                {"name": "server", "image": "evil:latest"}]}}}})
        core(k8s_api).delete_namespaced_service("churn", "default")
        poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-blue")["spec"]["replicas"] == 3,
             timeout=10)
        live = k8s_api.get(DEPLOYMENTS, "default", "churn-blue")
        assert live["spec"]["template"]["spec"]["containers"][0]["image"] == \
            "docker.io/seldonio/mlserver:1.6.1-sklearn"
        poll(lambda: k8s_api.get("v1/services", "default", "churn"), timeout=10)

        # delete: the finalizer removes the cache entry, then the MLModel goes
        delete(k8s_api, "churn")
        poll(lambda: model(k8s_api, "churn") is None, timeout=10)
        assert "default.churn" not in (k8s_api.get(*CACHE) or {}).get("data", {})
        assert any(r == "CleanedUp" for _, r, _ in events(k8s_api, "churn"))


@pytest.mark.points(6)
def test_unchanged_resync_writes_nothing(k8s_api: K8sApi) -> None:
    """Level-based and idempotent: once converged, timer resyncs only read."""
    prepare(k8s_api)
    with operator():
        create(k8s_api, mlmodel("churn", simple_spec(autoscaling={"minReplicas": 2,
                                                                  "maxReplicas": 4})))
        poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-blue"))
        # play the HPA (it owns the count: the operator leaves `replicas` out) and kubelet
        apps(k8s_api).patch_namespaced_deployment("churn-blue", "default",
                                                  {"spec": {"replicas": 2}})
        poll(lambda: mark_ready(k8s_api, "churn-blue"))
        poll(lambda: is_true(k8s_api, "churn", "Ready"))
        time.sleep(1.5)  # let in-flight handlers finish
        k8s_api.clear_requests()
        time.sleep(3.5)  # three resync rounds (1 s each)
        reads = [r for r in k8s_api.requests if r.method == "GET" and r.name == "churn-blue"]
        assert len(reads) >= 2, "the timer did not run"
        assert k8s_api.writes() == []
        # the HPA owns the replica count: the Deployment does not set it
        hpa = k8s_api.get("autoscaling/v2/horizontalpodautoscalers", "default", "churn")
        assert hpa["spec"]["scaleTargetRef"]["name"] == "churn-blue"
        assert k8s_api.get(DEPLOYMENTS, "default", "churn-blue")["spec"]["replicas"] == 2


@pytest.mark.hidden
@pytest.mark.points(4)
def test_always_patch_mode_writes_every_resync(k8s_api: K8sApi) -> None:
    """The benchmark's baseline is a real mode: with diff-before-write off, each resync
    patches every child although nothing changed."""
    prepare(k8s_api)
    with operator(Settings(diff_before_write=False)):
        create(k8s_api, mlmodel("churn", simple_spec()))
        poll(lambda: mark_ready(k8s_api, "churn-blue"))
        poll(lambda: is_true(k8s_api, "churn", "Ready"))
        time.sleep(1.0)
        k8s_api.clear_requests()
        time.sleep(2.5)
        patched = {(r.resource, r.name) for r in k8s_api.writes() if r.method == "PATCH"}
        assert {("apps/v1/deployments", "churn-blue"), ("v1/services", "churn"),
                ("v1/configmaps", "churn-config")} <= patched


@pytest.mark.points(4)
def test_resume_repairs_what_changed_while_the_operator_was_down(k8s_api: K8sApi) -> None:
    prepare(k8s_api)
    from modelop import metrics

    with operator():
        create(k8s_api, mlmodel("churn", simple_spec()))
        poll(lambda: mark_ready(k8s_api, "churn-blue"))
        poll(lambda: is_true(k8s_api, "churn", "Ready"))
    apps(k8s_api).patch_namespaced_deployment("churn-blue", "default", {"spec": {"replicas": 9}})
    before = metrics.RECONCILES.labels("resume", "ok")._value.get()
    with operator():
        poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-blue")["spec"]["replicas"] == 2)
        poll(lambda: metrics.RECONCILES.labels("resume", "ok")._value.get() > before)


@pytest.mark.points(5)
def test_invalid_spec_is_degraded_with_the_reason(k8s_api: K8sApi) -> None:
    """With the webhook off, kmock (like a cluster without the webhook) stores anything:
    the operator marks it Degraded, creates nothing, and recovers when the spec is fixed."""
    prepare(k8s_api)
    bad = {"model": {"uri": "ftp://models/x", "framework": "caffe"}, "replicas": 9,
           "autoscaling": {"minReplicas": 1, "maxReplicas": 3},
           "canary": {"modelUri": "s3://models/x/v2"}}
    with operator():
        create(k8s_api, mlmodel("broken", bad))
        poll(lambda: is_true(k8s_api, "broken", "Degraded"))
        degraded = condition(k8s_api, "broken", "Degraded")
        assert degraded is not None and degraded["reason"] == "InvalidSpec"
        for part in ("unsupported scheme 'ftp'", "framework 'caffe' is unknown",
                     "spec.replicas 9 is above spec.autoscaling.maxReplicas 3",
                     "a canary without gates"):
            assert part in degraded["message"]
        assert k8s_api.list(DEPLOYMENTS) == []
        patch_spec(k8s_api, "broken", {"model": {"uri": "s3://models/x", "framework": "onnx"},
                                       "replicas": 2, "canary": None})
        poll(lambda: mark_ready(k8s_api, "broken-blue"))
        poll(lambda: is_true(k8s_api, "broken", "Ready")
             and not is_true(k8s_api, "broken", "Degraded"))


@pytest.mark.points(5)
def test_conflicts_and_server_errors_are_retried_without_duplicates(k8s_api: K8sApi) -> None:
    """The first Deployment create answers 500 (kmock still stores it, like a timeout after
    the commit), the first patch 409: the operator retries with backoff, finds what exists
    (it reads before it writes), and ends with one Deployment with one owner reference."""
    import kmock

    from modelop import metrics

    errors_500 = metrics.ERRORS.labels("Http500")._value.get()
    errors_409 = metrics.ERRORS.labels("Http409")._value.get()
    prepare(k8s_api)
    emulator = k8s_api.emulator
    assert emulator is not None
    deployments = kmock.resource("apps", "v1", "deployments")
    emulator["post", deployments][:1] << 500
    with operator():
        create(k8s_api, mlmodel("churn", simple_spec()))
        poll(lambda: mark_ready(k8s_api, "churn-blue"), timeout=20)
        poll(lambda: is_true(k8s_api, "churn", "Ready"), timeout=20)
        patches = emulator["patch", deployments]
        seen = len(list(patches))  # slices count matching requests from the start
        patches[seen:seen + 1] << 409
        patch_spec(k8s_api, "churn", {"replicas": 4})
        poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-blue")["spec"]["replicas"] == 4,
             timeout=20)
    posts = [r for r in k8s_api.requests
             if r.method == "POST" and r.resource == "apps/v1/deployments"]
    assert len(posts) == 1, "created twice"
    assert metrics.ERRORS.labels("Http500")._value.get() > errors_500
    assert metrics.ERRORS.labels("Http409")._value.get() > errors_409
    assert [d["metadata"]["name"] for d in k8s_api.list(DEPLOYMENTS)] == ["churn-blue"]
    refs = k8s_api.get(DEPLOYMENTS, "default", "churn-blue")["metadata"]["ownerReferences"]
    assert len(refs) == 1


@pytest.mark.points(5)
def test_stuck_cleanup_is_shown_in_status_and_events(k8s_api: K8sApi) -> None:
    import kmock

    prepare(k8s_api)
    emulator = k8s_api.emulator
    assert emulator is not None
    with operator():
        create(k8s_api, mlmodel("churn", simple_spec()))
        poll(lambda: k8s_api.get(*CACHE))
        # reads have no side effect (kmock still applies an intercepted write)
        reaction = emulator["get", kmock.resource("", "v1", "configmaps"),
                            kmock.name("modelop-model-cache")] << 503
        delete(k8s_api, "churn")
        poll(lambda: ((model(k8s_api, "churn") or {}).get("status") or {}).get("cleanup"))
        cleanup = model(k8s_api, "churn")["status"]["cleanup"]  # type: ignore[index]
        assert cleanup["state"] == "Blocked" and "503" in cleanup["message"]
        assert any(t == "Warning" and r == "CleanupBlocked"
                   for t, r, _ in events(k8s_api, "churn"))
        assert model(k8s_api, "churn") is not None  # the finalizer holds it
        emulator._payloads.remove(reaction)  # the cache answers again
        poll(lambda: model(k8s_api, "churn") is None, timeout=20)
