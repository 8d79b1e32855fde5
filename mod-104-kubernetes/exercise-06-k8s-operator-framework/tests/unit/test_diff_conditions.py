"""Diff before write and status conditions."""

from __future__ import annotations

import pytest

from modelop.conditions import READY, Condition, deployment_ready, merge_conditions
from modelop.diff import is_subset, merge_patch, needs_write

LIVE = {"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "churn", "namespace": "ml", "resourceVersion": "41", "uid": "u",
                     "labels": {"a": "1", "added-by-someone": "x"}},
        "spec": {"selector": {"model": "churn", "slot": "blue"}, "clusterIP": "10.0.0.7",
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP",
                            "targetPort": "http"}]},
        "status": {"loadBalancer": {}}}


def _desired(**spec: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "churn", "namespace": "ml", "labels": {"a": "1"}},
            "spec": {"selector": {"model": "churn", "slot": "blue"},
                     "ports": [{"name": "http", "port": 80}], **spec}}


@pytest.mark.points(3)
def test_server_defaults_and_foreign_fields_are_not_a_change() -> None:
    assert not needs_write(_desired(), LIVE)
    assert needs_write(_desired(ports=[{"name": "http", "port": 8080}]), LIVE)
    assert needs_write(_desired(ports=[{"name": "http", "port": 80},
                                       {"name": "grpc", "port": 81}]), LIVE)
    assert needs_write(_desired(), None)
    assert is_subset({"a": 1}, {"a": 1.0}) and not is_subset({"a": True}, {"a": 1})


@pytest.mark.points(2)
def test_owned_maps_compare_exactly_and_patch_removes_keys() -> None:
    desired = _desired(selector={"model": "churn"})
    assert needs_write(desired, LIVE)  # a subset, but the selector is owned whole
    patch = merge_patch(desired, LIVE)
    assert patch["spec"]["selector"] == {"model": "churn", "slot": None}
    assert patch["metadata"] == {"labels": {"a": "1"}, "resourceVersion": "41"}
    assert "apiVersion" not in patch and "status" not in patch
    assert desired["spec"]["selector"] == {"model": "churn"}  # type: ignore[index]


@pytest.mark.points(2)
def test_conditions_keep_their_transition_time_until_they_flip() -> None:
    first = merge_conditions(None, [Condition(READY, False, "NotAvailable", "0/2")], 1,
                             now="2026-01-01T00:00:00Z")
    same = merge_conditions(first, [Condition(READY, False, "NotAvailable", "1/2")], 2,
                            now="2026-01-01T00:05:00Z")
    flipped = merge_conditions(same, [Condition(READY, True, "Available", "2/2")], 2,
                               now="2026-01-01T00:09:00Z")
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert same[0]["observedGeneration"] == 2 and same[0]["message"] == "1/2"
    assert flipped[0] == {"type": READY, "status": "True", "reason": "Available",
                          "message": "2/2", "observedGeneration": 2,
                          "lastTransitionTime": "2026-01-01T00:09:00Z"}


@pytest.mark.points(1)
def test_deployment_ready_needs_the_current_generation_observed() -> None:
    dep = {"metadata": {"generation": 3},
           "status": {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 2}}
    assert deployment_ready(dep, 2) == (False, "Deployment spec not yet observed by its "
                                               "controller")
    dep["status"]["observedGeneration"] = 3
    assert deployment_ready(dep, 2)[0]
    assert not deployment_ready(dep, 3)[0]
    assert deployment_ready(None, 1) == (False, "Deployment missing")
