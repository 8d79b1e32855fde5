"""The Schema Registry stand-in, driven by confluent-kafka's real SchemaRegistryClient."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from streamml.adapters.serde import DecodeError, EventCodec
from streamml.avro_schema import EVENT_SCHEMA, event_schema_str
from streamml.cli import cli
from streamml.registry import RegistryServer, SchemaStore

pytestmark = pytest.mark.integration


def _with_field(field: dict[str, object]) -> str:
    schema = copy.deepcopy(EVENT_SCHEMA)
    schema["fields"].append(field)  # type: ignore[attr-defined]
    return json.dumps(schema)


@pytest.mark.points(5)
def test_client_register_get_latest_lookup_and_409(registry: RegistryServer) -> None:
    client = SchemaRegistryClient({"url": registry.url})
    subject = "reg-basic-value"
    first = client.register_schema(subject, Schema(event_schema_str(), "AVRO"))
    assert client.register_schema(subject, Schema(event_schema_str(), "AVRO")) == first
    assert json.loads(client.get_schema(first).schema_str) == EVENT_SCHEMA
    v2 = _with_field({"name": "device", "type": "string", "default": "web"})
    second = client.register_schema(subject, Schema(v2, "AVRO"))
    latest = client.get_latest_version(subject)
    assert (latest.schema_id, latest.version) == (second, 2)
    found = client.lookup_schema(subject, Schema(event_schema_str(), "AVRO"))
    assert (found.schema_id, found.version) == (first, 1)
    assert client.get_compatibility(subject) == "BACKWARD"
    # A new required field (no default): old data cannot be read -> 409 under BACKWARD.
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(_with_field({"name": "country",
                                                             "type": "string"}), "AVRO"))
    assert refused.value.http_status_code == 409
    assert "country" in refused.value.error_message
    # Removing a field without default is BACKWARD-fine but breaks FORWARD readers.
    client.set_compatibility(subject, "FORWARD")
    reduced = copy.deepcopy(json.loads(v2))
    reduced["fields"] = [f for f in reduced["fields"] if f["name"] != "user_id"]
    assert not client.test_compatibility(subject, Schema(json.dumps(reduced), "AVRO"))
    with pytest.raises(SchemaRegistryError) as forward:
        client.register_schema(subject, Schema(json.dumps(reduced), "AVRO"))
    assert forward.value.http_status_code == 409


@pytest.mark.points(3)
def test_schema_register_cli_exit_codes(registry: RegistryServer, tmp_path: Path) -> None:
    env = {"STREAMML_KAFKA__SCHEMA_REGISTRY_URL": registry.url}
    runner = CliRunner()
    ok = runner.invoke(cli, ["schema", "register", "--subject", "reg-cli-value"], env=env)
    assert ok.exit_code == 0 and "schema id" in ok.output
    bad = tmp_path / "v2.avsc"
    bad.write_text(_with_field({"name": "country", "type": "string"}))
    refused = runner.invoke(cli, ["schema", "register", "--subject", "reg-cli-value",
                                  "--file", str(bad)], env=env)
    assert refused.exit_code == 6
    assert refused.output.startswith("error: incompatible schema for reg-cli-value")
    assert len(refused.output.strip().splitlines()) == 1
    invalid = tmp_path / "bad.avsc"
    invalid.write_text(json.dumps({"type": "record", "name": "X", "fields": [
        {"name": "a", "type": "no-such-type"}]}))
    result = runner.invoke(cli, ["schema", "register", "--subject", "reg-cli-value",
                                 "--file", str(invalid)], env=env)
    assert result.exit_code == 3 and "invalid schema" in result.output
    missing = runner.invoke(cli, ["schema", "register", "--file", str(tmp_path / "none")],
                            env=env)
    assert missing.exit_code == 4


@pytest.mark.points(3)
def test_decode_sorts_undecodable_from_unknown_schema(registry: RegistryServer) -> None:
    codec = EventCodec(registry.url)
    event = {"event_id": "e1", "user_id": "u", "event_time": 1, "action": "click",
             "amount": 0.0}
    data = codec.encode("reg-decode", event)
    assert data[0] == 0 and codec.decode("reg-decode", data) == event
    with pytest.raises(DecodeError) as unknown:
        codec.decode("reg-decode", b"\x00" + (424242).to_bytes(4, "big") + b"\x02\x00")
    assert unknown.value.reason == "unknown_schema" and "424242" in unknown.value.detail
    for garbage in (b"\xde\xad\xbe\xef\x00\x01", b"", data[:5], data[:5] + b"\xff" * 3):
        with pytest.raises(DecodeError) as bad:
            codec.decode("reg-decode", garbage)
        assert bad.value.reason == "undecodable"


@pytest.mark.points(2)
@pytest.mark.hidden
def test_registry_restart_keeps_ids(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    server = RegistryServer(SchemaStore.open(path)).start()
    try:
        first = SchemaRegistryClient({"url": server.url}).register_schema(
            "persist-value", Schema(event_schema_str(), "AVRO"))
    finally:
        server.stop()
    again = RegistryServer(SchemaStore.open(path)).start()
    try:
        client = SchemaRegistryClient({"url": again.url})
        assert json.loads(client.get_schema(first).schema_str) == EVENT_SCHEMA
        assert client.get_latest_version("persist-value").schema_id == first
    finally:
        again.stop()
