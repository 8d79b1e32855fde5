"""Avro in the Confluent wire format through confluent-kafka's own serde classes.

`SchemaRegistryClient` + `AvroSerializer` register the writer schema and frame each value as
magic byte 0, 4-byte schema id, Avro body; `AvroDeserializer` fetches the writer schema by id.
Decoding failures are sorted into what the quality stage needs to know: the message is bad
(`undecodable`, `unknown_schema`: dead-letter it) or the registry is away (stop, retry later:
the message itself may be fine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from streamml.avro_schema import event_schema_str
from streamml.errors import BrokerUnavailableError, IncompatibleSchemaError, InvalidSchemaError

# What the registry client raises when the server is away (it uses httpx, or httpx2 when
# installed, through this compat module).
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, OSError)


class DecodeError(Exception):
    """A message that cannot be decoded; `reason` is its dead-letter reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def registry_client(url: str) -> SchemaRegistryClient:
    # Few retries: an unreachable registry must fail in seconds, not minutes.
    return SchemaRegistryClient({"url": url, "max.retries": 1, "retries.wait.ms": 200,
                                 "retries.max.wait.ms": 500, "timeout": 5})


def subject_for(topic: str) -> str:
    """TopicNameStrategy, the serializer's default: value schema of `topic`."""
    return f"{topic}-value"


def register(client: SchemaRegistryClient, subject: str, schema_text: str) -> int:
    """Register a schema; 409 -> IncompatibleSchemaError, 422 -> InvalidSchemaError."""
    try:
        return int(client.register_schema(subject, Schema(schema_text, "AVRO")))
    except SchemaRegistryError as exc:
        if exc.http_status_code == 409:
            raise IncompatibleSchemaError(f"incompatible schema for {subject}: {exc.error_message}"
                                     ) from exc
        if exc.http_status_code == 422:
            raise InvalidSchemaError(f"invalid schema for {subject}: {exc.error_message}") from exc
        raise
    except _TRANSPORT_ERRORS as exc:
        raise BrokerUnavailableError(f"cannot reach the schema registry: {exc}") from exc


@dataclass
class EventCodec:
    """Encode / decode events of one topic with the registry at `registry_url`."""

    registry_url: str
    schema_text: str = ""

    def __post_init__(self) -> None:
        self.client = registry_client(self.registry_url)
        self._serializer = AvroSerializer(self.client, self.schema_text or event_schema_str(),
                                          conf={"auto.register.schemas": True})
        self._deserializer = AvroDeserializer(self.client)

    def encode(self, topic: str, event: dict[str, Any]) -> bytes:
        try:
            data = self._serializer(event, SerializationContext(topic, MessageField.VALUE))
        except SchemaRegistryError as exc:
            if exc.http_status_code == 409:
                raise IncompatibleSchemaError(f"incompatible schema for {subject_for(topic)}: "
                                         f"{exc.error_message}") from exc
            raise
        except _TRANSPORT_ERRORS as exc:
            raise BrokerUnavailableError(f"cannot reach the schema registry at "
                                    f"{self.registry_url}: {type(exc).__name__}") from exc
        assert data is not None
        return bytes(data)

    def decode(self, topic: str, data: bytes | None) -> dict[str, Any]:
        """The event, or DecodeError(undecodable | unknown_schema). Registry away: raises."""
        if data is None:
            raise DecodeError("undecodable", "empty message value")
        if data[:1] != b"\x00" or len(data) < 6:
            raise DecodeError("undecodable", "not Confluent wire format (bad magic byte)")
        try:
            value = self._deserializer(data, SerializationContext(topic, MessageField.VALUE))
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                schema_id = int.from_bytes(data[1:5], "big")
                raise DecodeError("unknown_schema", f"schema id {schema_id} is not "
                                    "registered") from exc
            raise BrokerUnavailableError(f"schema registry error: {exc}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise BrokerUnavailableError(f"cannot reach the schema registry at "
                                    f"{self.registry_url}") from exc
        except (SerializationError, ValueError, TypeError, EOFError, IndexError,
                UnicodeDecodeError, KeyError, OverflowError) as exc:
            raise DecodeError("undecodable", f"Avro body does not decode "
                                f"({type(exc).__name__})") from exc
        if not isinstance(value, dict):
            raise DecodeError("undecodable", "Avro value is not a record")
        return value
