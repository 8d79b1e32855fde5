"""Test helpers that start real components on loopback.

The pytest plugin (`aiinfra_shared.testing.plugin`, registered through the `pytest11` entry
point) exposes these as fixtures; the functions here can also be used directly, for example
from an exercise's `make run` or benchmark scripts.
"""

from aiinfra_shared.testing.binaries import MissingBinaryError, find_binary, require_binary
from aiinfra_shared.testing.ports import free_port, wait_for_http, wait_for_tcp
from aiinfra_shared.testing.process import ServiceProcess, ServiceStartError
from aiinfra_shared.testing.services import (
    Alertmanager,
    KafkaBroker,
    MotoServer,
    OciRegistry,
    Postgres,
    Prometheus,
    Pushgateway,
    start_alertmanager,
    start_kafka_broker,
    start_moto_server,
    start_oci_registry,
    start_postgres,
    start_prometheus,
    start_pushgateway,
)

__all__ = [
    "Alertmanager",
    "KafkaBroker",
    "MissingBinaryError",
    "MotoServer",
    "OciRegistry",
    "Postgres",
    "Prometheus",
    "Pushgateway",
    "ServiceProcess",
    "ServiceStartError",
    "find_binary",
    "free_port",
    "require_binary",
    "start_alertmanager",
    "start_kafka_broker",
    "start_moto_server",
    "start_oci_registry",
    "start_postgres",
    "start_prometheus",
    "start_pushgateway",
    "wait_for_http",
    "wait_for_tcp",
]
