"""mesh.yaml: the model and the cross-references no schema can check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshobs.errors import SpecError
from meshobs.spec import default_spec, duration_seconds, load_spec, parse_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def mesh(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "services": {"gateway": {}, "model": {"versions": ["v1", "v2"],
                                              "callers": ["gateway"]}},
        "routes": [{"service": "model", "weights": {"v1": 90, "v2": 10}}],
    }
    data.update(changes)
    return data


@pytest.mark.points(1)
def test_example_mesh_is_the_built_in_demo() -> None:
    assert load_spec(EXAMPLES / "mesh.yaml") == default_spec()


@pytest.mark.points(2)
def test_unknown_service_in_a_route_is_named() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(mesh(routes=[{"service": "modle", "weights": {"v1": 100}}]))
    message = str(info.value)
    assert "routes[0].service: unknown service 'modle' (known: gateway, model)" in message
    assert "\n" not in message


@pytest.mark.points(2)
def test_weights_must_sum_to_100() -> None:
    with pytest.raises(SpecError, match="weights of 'model' sum to 110, not 100"):
        parse_spec(mesh(routes=[{"service": "model", "weights": {"v1": 90, "v2": 20}}]))


@pytest.mark.points(1)
@pytest.mark.parametrize(("change", "expected"), [
    ({"routes": [{"service": "model", "weights": {"v1": 90, "v3": 10}}]},
     "unknown version 'v3' of 'model'"),
    ({"services": {"model": {"callers": ["ghost"]}}}, "callers: unknown service 'ghost'"),
    ({"routes": [{"service": "model", "weights": {"v1": 100},
                  "header_routes": [{"header": "x-canary", "exact": "y", "version": "v9"}]}]},
     "header_routes[0].version: unknown version 'v9'"),
    ({"services": {"model": {"traffic": {"timeout": "soon"}}}}, "invalid duration 'soon'"),
    ({"services": {"model": {"bogus": 1}}}, "services.model.bogus: Extra inputs"),
])
def test_other_reference_errors_are_reported(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(mesh(**change))
    assert expected in str(info.value)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: [unclosed\n")
    with pytest.raises(SpecError, match="invalid YAML"):
        load_spec(bad)
    bad.write_text(yaml.safe_dump(["a", "list"]))
    with pytest.raises(SpecError, match="expected a mapping"):
        load_spec(bad)


@pytest.mark.points(1)
def test_durations_and_identities() -> None:
    assert duration_seconds("250ms") == 0.25
    assert duration_seconds("2s") == 2.0
    assert duration_seconds("1.5m") == 90.0
    spec = default_spec()
    assert spec.spiffe_id("model") == "spiffe://cluster.local/ns/serving/sa/model"
    assert spec.route_for("features").weights == {"v1": 100}
    moved = spec.with_weights("model", {"v1": 40, "v2": 60})
    assert moved.route_for("model").weights == {"v1": 40, "v2": 60}
    assert moved.route_for("model").header_routes == spec.route_for("model").header_routes
