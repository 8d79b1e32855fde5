"""The validators, and the shipped schemas: transcribed from upstream, each with a negative
example that must fail (so a schema cannot merely mirror meshobs' own output)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from meshobs.validate import shipped_schemas, unknown_keys, validate_manifest

NEGATIVE = sorted((Path(__file__).resolve().parents[1] / "data" / "negative").glob("*.yaml"))


@pytest.mark.points(1)
@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_negative_examples_fail_for_the_stated_reason(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    problems = validate_manifest(case["manifest"])
    assert any(case["expect"] in problem for problem in problems), problems


@pytest.mark.points(2)
def test_every_shipped_schema_names_its_upstream_and_has_a_negative_example() -> None:
    kinds_with_negative = {yaml.safe_load(p.read_text())["manifest"]["kind"] for p in NEGATIVE}
    schemas = shipped_schemas()
    assert set(schemas) == {("gateway.networking.k8s.io/v1", "HTTPRoute"),
                            ("policy.linkerd.io/v1beta3", "Server"),
                            ("policy.linkerd.io/v1alpha1", "MeshTLSAuthentication"),
                            ("policy.linkerd.io/v1alpha1", "AuthorizationPolicy")}
    for (api, kind), schema in schemas.items():
        assert kind in kinds_with_negative, kind
        comment = schema["$comment"]
        assert "Transcribed from" in comment and (
            "gateway-api v1.2.0" in comment or "Linkerd 2.16" in comment), comment
        assert api.split("/")[1] in comment or "v1" in comment


@pytest.mark.points(1)
@pytest.mark.hidden
def test_schema_files_are_valid_json_schema() -> None:
    import jsonschema

    for entry in resources.files("meshobs.schemas").iterdir():
        if entry.name.endswith(".json"):
            jsonschema.Draft202012Validator.check_schema(json.loads(entry.read_text()))


@pytest.mark.points(1)
def test_unknown_keys_walks_dicts_and_lists() -> None:
    given = {"a": 1, "b": {"c": 2, "d": 3}, "e": [{"f": 1}, {"g": 2}]}
    known = {"a": 1, "b": {"c": 2}, "e": [{"f": 1}, {}]}
    assert unknown_keys(given, known) == ["b.d", "e[1].g"]


@pytest.mark.points(1)
@pytest.mark.hidden
def test_a_kind_without_any_schema_is_reported() -> None:
    problems = validate_manifest({"apiVersion": "example.com/v1", "kind": "Widget",
                                  "metadata": {"name": "w"}})
    assert problems and "no schema for example.com/v1 Widget" in problems[0]
