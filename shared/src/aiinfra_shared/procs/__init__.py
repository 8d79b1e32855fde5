"""Runtime helpers for starting real components: no pytest needed.

Exercises' own commands (`mltrack server up`, `modelmon stack up`, `regman`'s demo, benchmark
scripts) start PostgreSQL, moto, Prometheus... through these; the pytest fixtures in
`aiinfra_shared.testing` are thin wrappers over the same functions.
"""

from aiinfra_shared.procs.binaries import MissingBinaryError, find_binary, require_binary
from aiinfra_shared.procs.otlp import OtlpReceiver, SpanRecord
from aiinfra_shared.procs.ports import free_port, wait_for_http, wait_for_tcp
from aiinfra_shared.procs.postgres import make_postgres_dir, start_postgres_replica
from aiinfra_shared.procs.process import ServiceProcess, ServiceStartError
from aiinfra_shared.procs.services import (
    Alertmanager,
    ElasticsearchServer,
    KafkaBroker,
    MotoServer,
    OciRegistry,
    Postgres,
    Prometheus,
    Pushgateway,
    backfill_prometheus,
    start_alertmanager,
    start_elasticsearch,
    start_kafka_broker,
    start_moto_server,
    start_oci_registry,
    start_postgres,
    start_prometheus,
    start_pushgateway,
)
from aiinfra_shared.procs.smtp import Delivery, SmtpServer

__all__ = [
    "Alertmanager",
    "Delivery",
    "ElasticsearchServer",
    "KafkaBroker",
    "MissingBinaryError",
    "MotoServer",
    "OciRegistry",
    "OtlpReceiver",
    "Postgres",
    "Prometheus",
    "Pushgateway",
    "ServiceProcess",
    "ServiceStartError",
    "SmtpServer",
    "SpanRecord",
    "backfill_prometheus",
    "find_binary",
    "free_port",
    "make_postgres_dir",
    "require_binary",
    "start_alertmanager",
    "start_elasticsearch",
    "start_kafka_broker",
    "start_moto_server",
    "start_oci_registry",
    "start_postgres",
    "start_postgres_replica",
    "start_prometheus",
    "start_pushgateway",
    "wait_for_http",
    "wait_for_tcp",
]
