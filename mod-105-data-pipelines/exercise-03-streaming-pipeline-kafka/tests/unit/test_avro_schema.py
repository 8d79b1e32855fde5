"""Schema-evolution rules (Avro schema resolution) behind the registry's 409."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from streamml.avro_schema import EVENT_SCHEMA, compatibility_problems, reader_problems


def evolve(add: list[dict[str, Any]] | None = None, drop: tuple[str, ...] = (),
           change: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = copy.deepcopy(EVENT_SCHEMA)
    schema["fields"] = [f for f in schema["fields"] if f["name"] not in drop]
    for field in schema["fields"]:
        if change and field["name"] in change:
            field["type"] = change[field["name"]]
    schema["fields"] += add or []
    return schema


@pytest.mark.points(2)
def test_added_field_needs_a_default_for_backward() -> None:
    with_default = evolve(add=[{"name": "device", "type": "string", "default": "web"}])
    without = evolve(add=[{"name": "device", "type": "string"}])
    assert compatibility_problems("BACKWARD", with_default, [EVENT_SCHEMA]) == []
    problems = compatibility_problems("BACKWARD", without, [EVENT_SCHEMA])
    assert problems and "device" in problems[0]
    # FORWARD: old readers ignore the new field either way.
    assert compatibility_problems("FORWARD", without, [EVENT_SCHEMA]) == []


@pytest.mark.points(2)
def test_removed_field_breaks_forward_unless_it_had_a_default() -> None:
    no_user = evolve(drop=("user_id",))
    no_amount = evolve(drop=("amount",))  # amount has a default
    assert compatibility_problems("BACKWARD", no_user, [EVENT_SCHEMA]) == []
    assert any("user_id" in p for p in compatibility_problems("FORWARD", no_user,
                                                               [EVENT_SCHEMA]))
    assert compatibility_problems("FORWARD", no_amount, [EVENT_SCHEMA]) == []
    assert compatibility_problems("FULL", no_user, [EVENT_SCHEMA])
    assert compatibility_problems("NONE", no_user, [EVENT_SCHEMA]) == []


@pytest.mark.points(2)
def test_type_promotion_and_enum_symbols() -> None:
    as_long = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "long"}]}
    as_int = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]}
    assert reader_problems(as_long, as_int) == []  # int data read as long
    assert reader_problems(as_int, as_long) == ["x: writer type long is not readable as int"]
    more = evolve(change={"action": {"type": "enum", "name": "Action",
                                     "symbols": ["view", "click", "purchase", "refund"]}})
    assert compatibility_problems("BACKWARD", more, [EVENT_SCHEMA]) == []
    forward = compatibility_problems("FORWARD", more, [EVENT_SCHEMA])
    assert forward and "refund" in forward[0]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_unions_nested_records_and_names() -> None:
    optional = evolve(change={"user_id": ["null", "string"]})
    # Old data (string) is readable by a reader whose union has string...
    assert compatibility_problems("BACKWARD", optional, [EVENT_SCHEMA]) == []
    # ...but a writer that may send null is not readable by the old string-only reader.
    assert any("null" in p for p in compatibility_problems("FORWARD", optional,
                                                            [EVENT_SCHEMA]))
    renamed = copy.deepcopy(EVENT_SCHEMA)
    renamed["name"] = "OtherEvent"
    assert compatibility_problems("BACKWARD", renamed, [EVENT_SCHEMA])
    inner_w = {"type": "record", "name": "O", "fields": [
        {"name": "tags", "type": {"type": "array", "items": "int"}}]}
    inner_r = {"type": "record", "name": "O", "fields": [
        {"name": "tags", "type": {"type": "array", "items": "string"}}]}
    assert reader_problems(inner_r, inner_w) == [
        "tags[]: writer type int is not readable as string"]
    # Checked against the LATEST version only (non-transitive levels).
    v2 = evolve(add=[{"name": "device", "type": "string", "default": "web"}])
    v3 = evolve(add=[{"name": "device", "type": "string", "default": "web"}],
                drop=("amount",))
    assert compatibility_problems("FORWARD", v3, [EVENT_SCHEMA, v2]) == []
    with pytest.raises(ValueError):
        compatibility_problems("SIDEWAYS", v2, [EVENT_SCHEMA])
