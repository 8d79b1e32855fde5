"""Runtime helpers for starting real components: no pytest needed.

Exercises' own commands (`mltrack server up`, `modelmon stack up`, `regman`'s demo, benchmark
scripts) start PostgreSQL, moto, Prometheus... through these; the pytest fixtures in
`aiinfra_shared.testing` are thin wrappers over the same functions.
"""

from aiinfra_shared.procs.binaries import MissingBinaryError, find_binary, require_binary
from aiinfra_shared.procs.ports import free_port, wait_for_http, wait_for_tcp
from aiinfra_shared.procs.process import ServiceProcess, ServiceStartError
from aiinfra_shared.procs.services import (
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
