"""Manifests from one policy file, validated against the schemas of the pinned versions; each
schema also rejects a negative example (so it cannot merely mirror our own output)."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from autoscale import clusterfile, manifests, policyfile, validation
from autoscale.errors import PolicyError
from tests.helpers import EXAMPLES, ROOT, policy_dict

DATA = ROOT / "tests" / "data" / "schemas"


@pytest.fixture(scope="module")
def policy() -> policyfile.PolicyFile:
    return policyfile.load(EXAMPLES / "policy.yaml")


@pytest.fixture(scope="module")
def spec() -> clusterfile.ClusterFile:
    return clusterfile.load(EXAMPLES / "cluster.yaml")


@pytest.fixture(scope="module")
def files(policy: policyfile.PolicyFile, spec: clusterfile.ClusterFile) -> dict[str, str]:
    return manifests.render(policy, spec)


def doc(files: dict[str, str], path: str) -> dict[str, Any]:
    return dict(yaml.safe_load(files[path]))


@pytest.mark.points(2)
def test_render_tree_validates(files: dict[str, str]) -> None:
    assert set(files) == {
        "base/hpa.yaml", "base/vpa.yaml", "base/prometheus-adapter.yaml", "base/nodepool.yaml",
        "base/cluster-autoscaler.flags", "base/kustomization.yaml",
        "overlays/staging/kustomization.yaml", "overlays/production/kustomization.yaml"}
    assert validation.validate_files(files) == {}


@pytest.mark.points(2)
def test_hpa_carries_every_metric_type_and_behavior(files: dict[str, str]) -> None:
    hpa = doc(files, "base/hpa.yaml")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert [m["type"] for m in hpa["spec"]["metrics"]] == ["Resource", "Pods", "External"]
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 40)
    raw = policy_dict()
    raw["hpa"]["metrics"].append({"type": "Object", "object": {
        "metric": {"name": "requests_per_second"},
        "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                            "name": "web"},
        "target": {"type": "Value", "value": "2k"}}})
    with_object = manifests.hpa_manifest(policyfile.parse(raw))
    assert validation.errors(with_object) == []
    assert with_object["spec"]["metrics"][-1]["type"] == "Object"


@pytest.mark.points(2)
def test_keda_scaled_object_validates_with_the_216_models(policy: policyfile.PolicyFile
                                                          ) -> None:
    so = manifests.scaled_object(policy)
    assert validation.errors(so) == []
    assert [t["type"] for t in so["spec"]["triggers"]] == ["prometheus", "external"]
    assert so["spec"]["fallback"] == {"failureThreshold": 3, "replicas": 6}
    assert so["spec"]["minReplicaCount"] == 0
    bad = copy.deepcopy(so)
    bad["spec"]["pollingIntervall"] = 30
    assert validation.errors(bad) == ["spec.pollingIntervall: unknown field in KEDA 2.16's "
                                      "ScaledObject"]
    wrong_type = copy.deepcopy(so)
    wrong_type["spec"]["cooldownPeriod"] = "five minutes"
    assert validation.errors(wrong_type)


@pytest.mark.points(2)
def test_adapter_rules_map_pods_and_external_metrics(files: dict[str, str]) -> None:
    configmap = doc(files, "base/prometheus-adapter.yaml")
    config = yaml.safe_load(configmap["data"]["config.yaml"])
    assert config["rules"][0]["seriesQuery"] == 'http_requests_total{namespace!="",pod!=""}'
    assert config["rules"][0]["name"]["as"] == "http_requests_per_second"
    assert "rate(<<.Series>>{<<.LabelMatchers>>}[2m])" in config["rules"][0]["metricsQuery"]
    assert config["externalRules"][0]["name"]["as"] == "autoscale_forecast_requests_per_second"


@pytest.mark.points(1)
@pytest.mark.parametrize(("schema_doc", "mutate", "message"), [
    ("vpa", lambda d: d["spec"]["updatePolicy"].update(updateMode="Sometimes"),
     "'Sometimes' is not one of"),
    ("vpa", lambda d: d["spec"].pop("targetRef"), "'targetRef' is a required property"),
    ("vpa", lambda d: d["spec"].update(resourcePolicies=[]), "Additional properties"),
    ("vpa", lambda d: d["spec"]["resourcePolicy"]["containerPolicies"][0].update(
        controlledValues="Limits"), "'Limits' is not one of"),
    ("nodepool", lambda d: d["spec"]["template"]["spec"]["requirements"][0].update(
        operator="Equals"), "'Equals' is not one of"),
    ("nodepool", lambda d: d["spec"]["template"]["spec"].pop("nodeClassRef"),
     "'nodeClassRef' is a required property"),
    ("nodepool", lambda d: d["spec"]["disruption"].update(consolidationPolicy="Always"),
     "'Always' is not one of"),
    ("nodepool", lambda d: d["spec"].update(weight=500), "500 is greater than the maximum"),
])
def test_crd_schemas_reject_negative_examples(files: dict[str, str], schema_doc: str,
                                              mutate: Any, message: str) -> None:
    manifest = doc(files, f"base/{schema_doc}.yaml")
    assert validation.errors(manifest) == []
    mutate(manifest)
    problems = validation.errors(manifest)
    assert any(message in p for p in problems), problems


@pytest.mark.points(1)
def test_schemas_accept_upstream_examples_and_name_their_version() -> None:
    for name in ("vpa-upstream-example.yaml", "nodepool-upstream-example.yaml"):
        assert validation.errors(yaml.safe_load((DATA / name).read_text())) == []
    for name in validation.SCHEMAS.values():
        comment = validation.schema(name)["$comment"]
        assert "Transcribed from" in comment and "at tag" in comment
    assert "v0.12.0" in validation.schema(validation.ADAPTER_SCHEMA)["$comment"]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_adapter_schema_and_kubernetes_validate_reject_typos(files: dict[str, str]) -> None:
    assert validation.adapter_errors({"rules": [{"seriesQueries": "x", "metricsQuery": "y"}]})
    assert any("'metricsQuery' is a required property" in p for p in
               validation.adapter_errors({"rules": [{"seriesQuery": "up"}]}))
    hpa = doc(files, "base/hpa.yaml")
    hpa["spec"]["maxReplica"] = 3
    assert validation.errors(hpa)
    hpa = doc(files, "base/hpa.yaml")
    hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] = "seventy"
    assert validation.errors(hpa)


@pytest.mark.points(2)
def test_kustomize_overlays_render(tmp_path: Path, files: dict[str, str]) -> None:
    """The real kustomize (kubectl 1.37's) builds each overlay with its replica patches."""
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    kubectl = str(Path(__import__("sys").executable).parent / "kubectl")
    built = subprocess.run([kubectl, "kustomize", str(tmp_path / "overlays" / "production")],
                           capture_output=True, text=True, check=False, timeout=60)
    assert built.returncode == 0, built.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(built.stdout)}
    assert (docs["HorizontalPodAutoscaler"]["spec"]["minReplicas"],
            docs["HorizontalPodAutoscaler"]["spec"]["maxReplicas"]) == (3, 60)
    staging = subprocess.run([kubectl, "kustomize", str(tmp_path / "overlays" / "staging")],
                             capture_output=True, text=True, check=False, timeout=60)
    assert staging.returncode == 0, staging.stderr
    for item in yaml.safe_load_all(staging.stdout):
        if item["kind"] != "ConfigMap":
            assert item["metadata"]["namespace"] == "ml-serving-staging"


@pytest.mark.points(1)
def test_cluster_autoscaler_flags(spec: clusterfile.ClusterFile) -> None:
    flags = manifests.cluster_autoscaler_flags(spec)
    assert "--expander=priority" in flags
    assert "--scale-down-utilization-threshold=0.5" in flags
    assert "--scale-down-unneeded-time=600s" in flags
    assert "--nodes=1:12:ml-general-od" in flags


@pytest.mark.points(1)
@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p["replicas"].update(min=9, max=3), "replicas.min 9 > replicas.max 3"),
    (lambda p: p["hpa"]["metrics"].append({"type": "Custom", "custom": {}}),
     "unknown metric type 'Custom'"),
    (lambda p: p["hpa"]["metrics"][0]["resource"]["target"].update(type="Average"),
     "unknown target type 'Average'"),
    (lambda p: p["overlays"]["staging"]["replicas"].update(min=0),
     "overlay staging: an HPA needs minReplicas >= 1"),
    (lambda p: p.update(scaler="keda", keda=None), "no keda section"),
])
def test_bad_policies_are_rejected(change: Any, message: str) -> None:
    raw = policy_dict()
    change(raw)
    with pytest.raises(PolicyError) as info:
        policy = policyfile.parse(raw)
        manifests.render(policy)
    assert message in str(info.value)


@pytest.mark.points(1)
def test_winner_maps_to_its_scaler(policy: policyfile.PolicyFile) -> None:
    assert manifests.policy_for(policy, "hpa-cpu").scaler == "hpa"
    predictive = manifests.policy_for(policy, "predictive@karpenter")
    assert predictive.scaler == "keda"
    assert [t["type"] for t in manifests.scaled_object(predictive)["spec"]["triggers"]] == \
        ["prometheus", "external"]
    keda = manifests.policy_for(policy, "keda")
    assert [t["type"] for t in manifests.scaled_object(keda)["spec"]["triggers"]] == ["prometheus"]
