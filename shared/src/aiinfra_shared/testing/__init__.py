"""Test helpers that start real components on loopback.

The pytest plugin (`aiinfra_shared.testing.plugin`, registered through the `pytest11` entry
point) exposes these as fixtures. The launchers themselves live in `aiinfra_shared.procs`
(runtime code, no pytest); they are re-exported here for tests. Production code (an
exercise's `make run`, its benchmark scripts) imports `aiinfra_shared.procs`, never this package.
"""

from aiinfra_shared.procs import (
    Alertmanager,
    KafkaBroker,
    MissingBinaryError,
    MotoServer,
    OciRegistry,
    Postgres,
    Prometheus,
    Pushgateway,
    ServiceProcess,
    ServiceStartError,
    find_binary,
    free_port,
    require_binary,
    start_alertmanager,
    start_kafka_broker,
    start_moto_server,
    start_oci_registry,
    start_postgres,
    start_prometheus,
    start_pushgateway,
    wait_for_http,
    wait_for_tcp,
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
