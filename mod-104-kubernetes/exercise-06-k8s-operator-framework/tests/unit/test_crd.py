"""The CRD: a valid apiextensions object, examples valid against its structural schema
(jsonschema) and its CEL rules (cel-python, the CEL the API server evaluates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import celpy
import jsonschema
import kubernetes_validate
import pytest
import yaml

from modelop.crd import CEL_RULES, crd_manifest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VALID = ("mlmodel.yaml", "mlmodel-canary.yaml", "mlmodel-gpu-hpa.yaml")


def _json_schema(node: Any) -> Any:
    """openAPIV3Schema minus the Kubernetes extensions jsonschema does not know."""
    if isinstance(node, dict):
        return {k: _json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes")}
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


def _schema() -> dict[str, Any]:
    version = crd_manifest()["spec"]["versions"][0]
    schema: dict[str, Any] = _json_schema(version["schema"]["openAPIV3Schema"])
    return schema


def _cel(rule: str, spec: dict[str, Any]) -> bool:
    env = celpy.Environment()
    return bool(env.program(env.compile(rule)).evaluate({"self": celpy.json_to_cel(spec)}))


def _example(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return doc


@pytest.mark.points(2)
def test_crd_is_a_valid_custom_resource_definition() -> None:
    crd = crd_manifest()
    kubernetes_validate.validate(crd, "1.31", strict=True)
    version = crd["spec"]["versions"][0]
    assert version["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector"}
    assert "status" in version["subresources"]
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert columns["Ready"] == '.status.conditions[?(@.type=="Ready")].status'
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["properties"]["model"]["properties"]["framework"]["enum"][0] == "sklearn"
    assert spec["properties"]["replicas"]["default"] == 1


@pytest.mark.points(3)
def test_examples_against_the_structural_schema() -> None:
    schema = _schema()
    for name in VALID:
        jsonschema.validate(_example(name), schema)
    with pytest.raises(jsonschema.ValidationError) as failed:
        jsonschema.validate(_example("mlmodel-invalid.yaml"), schema)
    assert failed.value.json_path in ("$.spec.model.uri", "$.spec.model.framework")
    bad_steps = _example("mlmodel-canary.yaml")
    bad_steps["spec"]["canary"]["steps"] = [10, 100]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_steps, schema)


@pytest.mark.points(3)
def test_cel_rules_accept_the_examples_and_reject_cross_field_errors() -> None:
    for name in VALID:
        spec = _example(name)["spec"]
        assert all(_cel(r["rule"], spec) for r in CEL_RULES), name
    invalid = _example("mlmodel-invalid.yaml")["spec"]
    broken = {r["message"] for r in CEL_RULES if not _cel(r["rule"], invalid)}
    assert broken == {"replicas must not exceed autoscaling.maxReplicas",
                      "a canary needs gates (maxErrorRate or maxP95LatencySeconds)"}


@pytest.mark.hidden
@pytest.mark.points(2)
def test_cel_rules_for_min_max_and_hf_models() -> None:
    spec = {"model": {"uri": "hf://org/m", "framework": "onnx"},
            "autoscaling": {"minReplicas": 5, "maxReplicas": 2}}
    broken = {r["message"] for r in CEL_RULES if not _cel(r["rule"], spec)}
    assert broken == {"autoscaling.minReplicas must not exceed autoscaling.maxReplicas",
                      "hf:// models need framework huggingface"}
    no_change = {"model": {"uri": "s3://m", "framework": "onnx"},
                 "canary": {"gates": {"maxErrorRate": 0.1}}}
    assert {r["message"] for r in CEL_RULES if not _cel(r["rule"], no_change)} == \
        {"a canary must set modelUri or image"}
