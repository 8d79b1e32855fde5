"""The k8s_api fixture: the official kubernetes client against kmock's emulator, with the
bookkeeping a real API server does (uid, resourceVersion, generation) and a request log.

`kubernetes` is imported inside the tests, after the fixture exported $KUBECONFIG: the client
reads that variable once, at import time.
"""

from __future__ import annotations

from typing import Any

import pytest

from aiinfra_shared.testing.k8s import K8sApi

pytestmark = pytest.mark.integration

WIDGET = ("example.com", "v1", "widgets")


def _widget(name: str, size: int) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": name, "labels": {"tier": "gpu"}}, "spec": {"size": size}}


def test_client_creates_patches_lists_and_deletes(k8s_api: K8sApi) -> None:
    from kubernetes import client, config

    config.load_kube_config()  # finds the emulator through $KUBECONFIG
    core, custom = client.CoreV1Api(), client.CustomObjectsApi()
    assert k8s_api.declare(*WIDGET, "Widget") == "example.com/v1/widgets"
    k8s_api.clear_requests()

    cm = core.create_namespaced_config_map(
        "default", {"metadata": {"name": "settings"}, "data": {"replicas": "2"}})
    assert cm.metadata.uid and cm.metadata.namespace == "default"
    assert cm.metadata.creation_timestamp is not None

    created = custom.create_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2],
                                                     _widget("w1", 1))
    meta = created["metadata"]
    assert meta["uid"] and meta["generation"] == 1
    read = custom.get_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w1")
    assert read["metadata"]["uid"] == meta["uid"]
    assert int(read["metadata"]["resourceVersion"]) > int(cm.metadata.resource_version)

    annotated = custom.patch_namespaced_custom_object(
        *WIDGET[:2], "default", WIDGET[2], "w1", {"metadata": {"annotations": {"a": "b"}}})
    assert annotated["metadata"]["generation"] == 1  # metadata change: same generation
    resized = custom.patch_namespaced_custom_object(
        *WIDGET[:2], "default", WIDGET[2], "w1", {"spec": {"size": 3}})
    assert resized["metadata"]["generation"] == 2  # spec change: generation bumped
    assert int(resized["metadata"]["resourceVersion"]) > int(
        annotated["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    status = custom.patch_namespaced_custom_object_status(
        *WIDGET[:2], "default", WIDGET[2], "w1", {"status": {"ready": True}})
    assert status["metadata"]["generation"] == 2 and status["status"] == {"ready": True}

    listed = custom.list_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2],
                                                  label_selector="tier=gpu")
    assert listed["kind"] == "WidgetList"
    assert [item["spec"]["size"] for item in listed["items"]] == [3]
    assert custom.list_namespaced_custom_object(
        *WIDGET[:2], "default", WIDGET[2], label_selector="tier=cpu")["items"] == []
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == [
        "settings"]

    custom.delete_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w1")
    core.delete_namespaced_config_map("settings", "default")
    assert k8s_api.get("example.com/v1/widgets", "default", "w1") is None

    writes = [(r.method, r.resource, r.name, r.subresource) for r in k8s_api.writes()]
    assert writes == [
        ("POST", "v1/configmaps", None, None),
        ("POST", "example.com/v1/widgets", None, None),
        ("PATCH", "example.com/v1/widgets", "w1", None),
        ("PATCH", "example.com/v1/widgets", "w1", None),
        ("PATCH", "example.com/v1/widgets", "w1", "status"),
        ("DELETE", "example.com/v1/widgets", "w1", None),
        ("DELETE", "v1/configmaps", "settings", None),
    ]
    assert k8s_api.writes()[3].body == {"spec": {"size": 3}}  # as sent, before stamping


def test_reads_only_leave_no_writes_and_namespaces_work(k8s_api: K8sApi) -> None:
    from kubernetes import client

    core = client.CoreV1Api(k8s_api.client())
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system"} <= names
    assert core.read_namespace("default").metadata.uid
    assert core.list_namespaced_config_map("default").items == []
    assert k8s_api.requests and k8s_api.writes() == []

    core.create_namespace({"metadata": {"name": "team-a"}})
    assert k8s_api.get("v1/namespaces", None, "team-a") is not None
    assert [(r.method, r.path) for r in k8s_api.writes()] == [("POST", "/api/v1/namespaces")]


def test_crd_from_the_api_finalizers_and_conflicts(k8s_api: K8sApi) -> None:
    from kubernetes import client

    api_client = k8s_api.client()
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]},
    }
    client.ApiextensionsV1Api(api_client).create_custom_resource_definition(crd)
    custom = client.CustomObjectsApi(api_client)
    body = _widget("w2", 1)
    body["metadata"]["finalizers"] = ["example.com/cleanup"]
    created = custom.create_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], body)

    stale = {**created, "spec": {"size": 5}}
    custom.replace_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w2", stale)
    with pytest.raises(client.ApiException) as conflict:  # same resourceVersion again
        custom.replace_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w2", stale)
    assert conflict.value.status == 409

    custom.delete_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w2")
    held = k8s_api.get("example.com/v1/widgets", "default", "w2")
    assert held is not None and held["metadata"]["deletionTimestamp"]  # finalizer holds it
    custom.patch_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w2",
                                          {"metadata": {"finalizers": None}})
    assert k8s_api.get("example.com/v1/widgets", "default", "w2") is None


def test_watch_from_a_list_version_and_failed_json_patch_test(k8s_api: K8sApi) -> None:
    """What kopf relies on: a watch started from a list's resourceVersion replays only what
    changed since (kmock replays everything, so kopf retried finalizer patches against stale
    copies), a write made right after the watch starts is streamed, and a JSON-patch `test`
    op on a stale resourceVersion answers 422 (kmock: 500, which kopf retries as is)."""
    from kubernetes import client, config, watch

    config.load_kube_config()
    custom = client.CustomObjectsApi()
    k8s_api.declare(*WIDGET, "Widget")
    custom.create_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], _widget("old", 1))
    listed = custom.list_cluster_custom_object(*WIDGET)
    since = listed["metadata"]["resourceVersion"]
    custom.create_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], _widget("new", 2))

    stream = watch.Watch()
    seen: list[tuple[str, str]] = []
    for event in stream.stream(custom.list_cluster_custom_object, *WIDGET,
                               resource_version=since, timeout_seconds=5):
        seen.append((event["type"], event["object"]["metadata"]["name"]))
        if len(seen) == 1:  # written while the stream is open: must not be lost
            custom.patch_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "old",
                                                  {"spec": {"size": 5}})
        if len(seen) == 2:
            stream.stop()
    assert seen == [("ADDED", "new"), ("MODIFIED", "old")]
    taken = k8s_api.take_requests()
    assert ("PATCH", "old") in [(r.method, r.name) for r in taken]
    assert k8s_api.requests == []

    stale = listed["items"][0]["metadata"]["resourceVersion"]
    with pytest.raises(client.ApiException) as failed:  # a list body is sent as a JSON patch
        custom.patch_namespaced_custom_object(
            *WIDGET[:2], "default", WIDGET[2], "old",
            [{"op": "test", "path": "/metadata/resourceVersion", "value": stale},
             {"op": "add", "path": "/metadata/finalizers", "value": ["x"]}])
    assert failed.value.status == 422
    assert "finalizers" not in k8s_api.get("example.com/v1/widgets", "default", "old")["metadata"]
