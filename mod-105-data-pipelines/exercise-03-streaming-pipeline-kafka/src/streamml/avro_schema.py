"""The event schema and Avro schema-evolution checks (BACKWARD / FORWARD / FULL).

Pure functions over parsed Avro schemas (JSON): the registry calls them before it accepts a
new version, so incompatible producers are refused (HTTP 409) instead of breaking consumers.
The rules are Avro's schema-resolution rules (specification, "Schema Resolution"): a reader
can read a writer's data when every reader field exists in the writer with a readable type or
has a default, enum symbols the writer may send exist in the reader, and primitives are equal
or promotable (int -> long -> float -> double, string <-> bytes).
"""

from __future__ import annotations

import json
from typing import Any

EVENT_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "UserEvent",
    "namespace": "streamml",
    "doc": "One user interaction; event_time is when it happened (ms since the epoch).",
    "fields": [
        {"name": "event_id", "type": "string"},
        {"name": "user_id", "type": "string"},
        {"name": "event_time", "type": "long"},
        {"name": "action", "type": {"type": "enum", "name": "Action",
                                    "symbols": ["view", "click", "purchase"]}},
        {"name": "amount", "type": "double", "default": 0.0},
    ],
}

COMPATIBILITY_LEVELS = ("NONE", "BACKWARD", "FORWARD", "FULL")

_PROMOTIONS: dict[str, set[str]] = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


def event_schema_str() -> str:
    """The event schema as the registry stores it (canonical JSON text)."""
    return json.dumps(EVENT_SCHEMA, separators=(",", ":"))


def _type_name(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        return str(schema["type"]) if not isinstance(schema["type"], (dict, list)) else \
            _type_name(schema["type"])
    return str(schema)


def _unwrap(schema: Any) -> Any:
    """`{"type": "long"}` is the same as `"long"`; nested type dicts are unwrapped."""
    while isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
        schema = schema["type"]
    if isinstance(schema, dict) and schema.get("type") in _PRIMITIVES and len(
            [k for k in schema if k not in ("type", "logicalType")]) == 0:
        return schema["type"]
    return schema


_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def reader_problems(reader: Any, writer: Any, path: str = "") -> list[str]:
    """Why `reader` cannot read data written with `writer` (empty: it can).

    Each problem names the field path, e.g. `amount: writer type string is not readable as
    double`, so the 409 message tells the producer what to fix.
    """
    # BEGIN SOLUTION
    reader, writer = _unwrap(reader), _unwrap(writer)
    where = path or "<root>"
    if isinstance(writer, list):
        # Every branch the writer may use must be readable.
        problems: list[str] = []
        for branch in writer:
            problems += reader_problems(reader, branch, path)
        return problems
    if isinstance(reader, list):
        for branch in reader:
            if not reader_problems(branch, writer, path):
                return []
        return [f"{where}: writer type {_type_name(writer)} matches no branch of the "
                f"reader's union"]
    r_type, w_type = _type_name(reader), _type_name(writer)
    if r_type != w_type:
        if r_type in _PROMOTIONS.get(w_type, set()):
            return []
        return [f"{where}: writer type {w_type} is not readable as {r_type}"]
    if r_type == "record":
        if reader.get("name") != writer.get("name"):
            return [f"{where}: record name {writer.get('name')} != {reader.get('name')}"]
        writer_fields = {f["name"]: f for f in writer["fields"]}
        for alias_field in writer["fields"]:
            for alias in alias_field.get("aliases", []):
                writer_fields.setdefault(alias, alias_field)
        problems = []
        for field in reader["fields"]:
            name = field["name"]
            sub = f"{path}.{name}" if path else name
            source = writer_fields.get(name) or next(
                (writer_fields[a] for a in field.get("aliases", []) if a in writer_fields), None)
            if source is None:
                if "default" not in field:
                    problems.append(f"{sub}: reader field has no default and the writer "
                                    f"does not write it")
                continue
            problems += reader_problems(field["type"], source["type"], sub)
        return problems
    if r_type == "enum":
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and "default" not in reader:
            return [f"{where}: enum symbols {missing} unknown to the reader"]
        return []
    if r_type == "array":
        return reader_problems(reader["items"], writer["items"], f"{where}[]")
    if r_type == "map":
        return reader_problems(reader["values"], writer["values"], f"{where}{{}}")
    if r_type == "fixed":
        if reader.get("size") != writer.get("size") or reader.get("name") != writer.get("name"):
            return [f"{where}: fixed {writer.get('name')}[{writer.get('size')}] != "
                    f"{reader.get('name')}[{reader.get('size')}]"]
        return []
    return []
    # END SOLUTION


def compatibility_problems(level: str, new: Any, existing: list[Any]) -> list[str]:
    """Problems that stop `new` from joining a subject whose versions are `existing`.

    BACKWARD: consumers on the new schema read old data (new is the reader); FORWARD: old
    consumers read new data (new is the writer); FULL: both. Checked against the latest
    version, as Confluent's non-transitive levels do. NONE accepts anything.
    """
    # BEGIN SOLUTION
    level = level.upper()
    if level not in COMPATIBILITY_LEVELS:
        raise ValueError(f"unknown compatibility level {level!r}")
    if level == "NONE" or not existing:
        return []
    latest = existing[-1]
    problems: list[str] = []
    if level in ("BACKWARD", "FULL"):
        problems += [f"BACKWARD: {p}" for p in reader_problems(new, latest)]
    if level in ("FORWARD", "FULL"):
        problems += [f"FORWARD: {p}" for p in reader_problems(latest, new)]
    return problems
    # END SOLUTION
