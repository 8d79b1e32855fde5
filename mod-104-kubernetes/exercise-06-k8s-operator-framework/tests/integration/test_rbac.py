"""Least privilege, checked against what the operator really sends: every request of a
full lifecycle (all optional children, a mesh canary, delete) is allowed by the ClusterRole
in deploy/, and the role grants nothing broad."""

from __future__ import annotations

import pytest
from aiinfra_shared.testing.k8s import ApiRequest, K8sApi

from modelop.manifests import RBAC_RULES
from tests.support.cluster import (
    create,
    delete,
    mark_all_ready,
    mlmodel,
    model,
    operator,
    patch_spec,
    poll,
    prepare,
    simple_spec,
)

pytestmark = pytest.mark.integration


def _verb(request: ApiRequest) -> str:
    if request.method == "GET":
        if request.query.get("watch") in ("true", "1"):
            return "watch"
        return "get" if request.name else "list"
    return {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}[
        request.method]


def _allowed(group: str, resource: str, verb: str) -> bool:
    return any(group in rule["apiGroups"] and resource in rule["resources"]
               and verb in rule["verbs"] for rule in RBAC_RULES)


@pytest.mark.points(6)
def test_every_request_is_allowed_by_the_cluster_role(k8s_api: K8sApi) -> None:
    prepare(k8s_api)
    spec = simple_spec(replicas=2, autoscaling={"minReplicas": 2, "maxReplicas": 4},
                       disruptionBudget={"minAvailable": 1}, monitoring={"serviceMonitor": True})
    with operator():
        create(k8s_api, mlmodel("churn", spec))
        poll(lambda: (model(k8s_api, "churn") or {}).get("status", {}).get("children"))
        patch_spec(k8s_api, "churn", {"canary": {
            "image": "docker.io/seldonio/mlserver:1.7.0-sklearn", "trafficRouting": "istio",
            "gates": {"maxErrorRate": 0.01}}})
        poll(lambda: k8s_api.get("networking.istio.io/v1/virtualservices", "default", "churn"),
             each=lambda: mark_all_ready(k8s_api))
        delete(k8s_api, "churn")
        poll(lambda: model(k8s_api, "churn") is None)
    checked = set()
    for request in k8s_api.requests:
        if request.resource is None or request.resource.endswith("/None"):
            continue  # discovery URLs (/api, /apis/<group>/<version>): open to everyone
        if request.method == "PATCH" and request.path.endswith("/status") \
                and "/deployments/" in request.path:
            continue  # the test playing the Deployment controller
        group_version, _, plural = request.resource.rpartition("/")
        group = group_version.split("/")[0] if "/" in group_version else ""
        resource = plural + (f"/{request.subresource}" if request.subresource else "")
        if request.path.startswith("/apis/aiinfra.dev") and request.method == "POST":
            continue  # the test created the MLModel
        if request.path.startswith("/apis/aiinfra.dev") and request.method == "DELETE":
            continue  # ...and deleted it
        verb = _verb(request)
        checked.add((group, resource, verb))
        assert _allowed(group, resource, verb), f"{request.method} {request.path} -> " \
                                                f"{group}/{resource}:{verb} is not granted"
    assert ("apps", "deployments", "create") in checked
    assert ("networking.istio.io", "virtualservices", "create") in checked
    assert ("", "events", "create") in checked
    assert ("aiinfra.dev", "mlmodels", "watch") in checked
    for rule in RBAC_RULES:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
        assert "secrets" not in rule["resources"]
