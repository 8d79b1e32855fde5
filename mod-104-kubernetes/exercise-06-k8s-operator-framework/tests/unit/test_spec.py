"""The MLModel spec checks: what the webhook rejects and the reconciler marks Degraded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modelop.spec import DEFAULT_IMAGES, SpecError, defaults_patch, parse_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _spec(**extra: object) -> dict[str, object]:
    return {"model": {"uri": "s3://models/churn/v1", "framework": "sklearn"}, **extra}


def _problems(spec: dict[str, object]) -> list[str]:
    with pytest.raises(SpecError) as failed:
        parse_spec(spec)
    return failed.value.problems


@pytest.mark.points(2)
def test_valid_examples_parse_with_defaults() -> None:
    for name in ("mlmodel.yaml", "mlmodel-canary.yaml", "mlmodel-gpu-hpa.yaml"):
        parse_spec(yaml.safe_load((EXAMPLES / name).read_text())["spec"])
    spec = parse_spec(_spec())
    assert spec.replicas == 1 and spec.predictor.port == 8080
    assert spec.predictor.image == DEFAULT_IMAGES["sklearn"]
    assert spec.autoscaling is None and spec.canary is None


@pytest.mark.points(4)
def test_invalid_example_reports_every_problem() -> None:
    problems = _problems(yaml.safe_load((EXAMPLES / "mlmodel-invalid.yaml").read_text())["spec"])
    text = " | ".join(problems)
    assert "spec.model.uri 'ftp://models/broken': unsupported scheme 'ftp'" in text
    assert "spec.model.framework 'caffe' is unknown" in text
    assert "spec.replicas 9 is above spec.autoscaling.maxReplicas 3" in text
    assert "a canary without gates is promoted blind" in text
    assert len(problems) == 4


@pytest.mark.points(1)
@pytest.mark.parametrize(("spec", "expected"), [
    (_spec(canary={"gates": {"maxErrorRate": 0.1}}), "must change spec.model.uri"),
    (_spec(canary={"modelUri": "s3://m/2", "steps": [50, 20],
                   "gates": {"maxErrorRate": 0.1}}), "strictly increasing"),
    (_spec(autoscaling={"minReplicas": 4, "maxReplicas": 2}), "minReplicas 4 is above"),
    (_spec(replicas=2, disruptionBudget={"minAvailable": 2}), "drains would block"),
])
def test_cross_field_checks(spec: dict[str, object], expected: str) -> None:
    assert any(expected in p for p in _problems(spec))


@pytest.mark.hidden
@pytest.mark.points(1)
@pytest.mark.parametrize(("spec", "expected"), [
    ({"model": {"uri": "hf://org/model", "framework": "sklearn"}}, "need framework huggingface"),
    (_spec(canary={"modelUri": "s3://m/2", "trafficRouting": "gatewayAPI",
                   "gates": {"maxErrorRate": 0.1}}), "spec.canary.gateway"),
    (_spec(canary={"modelUri": "s3://m/2", "gates": {"maxErrorRate": 2}}), "between 0 and 1"),
    (_spec(canary={"modelUri": "s3://m/2", "gates": {"maxErrorRate": 0.1,
                                                    "window": "five"}}), "not a duration"),
    (_spec(replicas="3"), "spec.replicas must be an integer"),
    (_spec(resources={"requests": {"cpu": "lots"}}), "not a Kubernetes quantity"),
    ({"model": {"uri": "", "framework": "onnx"}}, "spec.model.uri is required"),
])
def test_edge_cases_are_rejected_with_the_field_named(spec: dict[str, object],
                                                      expected: str) -> None:
    assert any(expected in p for p in _problems(spec))


@pytest.mark.points(2)
def test_defaults_patch_fills_only_what_is_missing() -> None:
    patch = defaults_patch({"model": {"uri": "s3://m", "framework": "pytorch"},
                            "canary": {"modelUri": "s3://m2", "steps": [5]}})
    assert patch["server"] == {"image": DEFAULT_IMAGES["pytorch"], "port": 8080}
    assert patch["replicas"] == 1
    assert patch["canary"]["steps"] == [5]  # the user's value is kept
    assert patch["canary"]["stepSeconds"] == 30
    complete = {"model": {"uri": "s3://m", "framework": "onnx"}, "replicas": 2,
                "server": {"image": "x", "port": 9000}}
    assert defaults_patch(complete) == {}


@pytest.mark.points(1)
def test_revision_follows_model_and_server() -> None:
    base = parse_spec(_spec()).predictor
    assert parse_spec(_spec(replicas=5)).predictor.revision == base.revision
    other_uri = parse_spec({"model": {"uri": "s3://models/churn/v2",
                                      "framework": "sklearn"}}).predictor
    other_image = parse_spec(_spec(server={"image": "custom:1"})).predictor
    assert len({base.revision, other_uri.revision, other_image.revision}) == 3
