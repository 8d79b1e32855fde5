"""Start real servers on loopback: PostgreSQL, moto, Prometheus, Alertmanager, Pushgateway,
an OCI registry (CNCF distribution) and a Kafka-protocol broker (noida-db).

Each `start_*` function takes a working directory it may own, starts the server, waits for
readiness and returns a small handle with the URL and a few helpers. `handle.stop()` ends it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.procs.ports import free_port, wait_until
from aiinfra_shared.procs.process import ServiceProcess, ServiceStartError

LOOPBACK = "127.0.0.1"


@dataclass
class _Handle:
    process: ServiceProcess

    def stop(self) -> None:
        self.process.stop()

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres(_Handle):
    """A private PostgreSQL cluster (initdb in a temp dir, trust auth on loopback)."""

    host: str
    port: int
    user: str
    data_dir: Path
    bin_dir: Path
    run_as: str | None = None

    @property
    def dsn(self) -> str:
        """libpq URL of the default `postgres` database."""
        return self.url("postgres")

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        """URL for `database`; pass driver='postgresql+psycopg2' for SQLAlchemy/MLflow."""
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with psql and return its unaligned, tuples-only output."""
        result = subprocess.run(
            [str(self.bin_dir / "psql"), "-h", self.host, "-p", str(self.port), "-U", self.user,
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True, text=True, check=False, timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create database `name` (if absent) and return its libpq URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r} must be alphanumeric/underscore")
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            self._as_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                           "-w", "stop"]),
            capture_output=True, check=False, timeout=60,
        )
        self.process.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def _as_user(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *command] if self.run_as else command


def start_postgres(timeout: float = 60.0) -> Postgres:
    """initdb a fresh cluster in a private temp dir and start it on a free loopback port.

    PostgreSQL refuses to run as root; as root we run it as the `postgres` system user
    (created by the Debian package), in a temp dir that user owns.
    """
    initdb = Path(require_binary("initdb", "apt-get install postgresql (make setup)"))
    bin_dir = initdb.resolve().parent
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ServiceStartError(
                "running as root needs the 'postgres' user (apt-get install postgresql)"
            ) from exc
        run_as = "postgres"
    base = Path(tempfile.mkdtemp(prefix="aiinfra-pg-"))
    data_dir = base / "data"
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(base, entry.pw_uid, entry.pw_gid)

    def as_user(cmd: list[str]) -> list[str]:
        return ["runuser", "-u", run_as, "--", *cmd] if run_as else cmd

    init = subprocess.run(
        as_user([str(initdb), "-D", str(data_dir), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--no-sync"]),
        capture_output=True, text=True, check=False, timeout=120,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise ServiceStartError(f"initdb failed: {init.stderr.strip()[-2000:]}")
    port = free_port()
    process = ServiceProcess(
        "postgres",
        as_user([str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port),
                 "-c", f"listen_addresses={LOOPBACK}", "-c", f"unix_socket_directories={base}",
                 "-c", "fsync=off", "-c", "full_page_writes=off"]),
        base / "postgres.log",
        ready_check=lambda: _pg_ready(bin_dir, port),
        timeout=timeout,
    )
    process.start()
    return Postgres(process=process, host=LOOPBACK, port=port, user="postgres",
                    data_dir=data_dir, bin_dir=bin_dir, run_as=run_as)


def _pg_ready(bin_dir: Path, port: int) -> bool:
    pg_isready = bin_dir / "pg_isready"
    result = subprocess.run([str(pg_isready), "-h", LOOPBACK, "-p", str(port), "-t", "1"],
                            capture_output=True, check=False)
    return result.returncode == 0


# --------------------------------------------------------------------------- moto


@dataclass
class MotoServer(_Handle):
    """moto in server mode: AWS APIs (S3, STS, IAM, EC2, DynamoDB, Cost Explorer...)."""

    endpoint_url: str
    region: str = "us-east-1"

    @property
    def env(self) -> dict[str, str]:
        """Environment that points boto3/terraform/the AWS CLI at this server."""
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint_url,
        }

    def client(self, service: str) -> Any:
        """A boto3 client for `service` bound to this server (needs boto3)."""
        import boto3  # optional dependency, only when used

        return boto3.client(
            service, endpoint_url=self.endpoint_url, region_name=self.region,
            aws_access_key_id="testing", aws_secret_access_key="testing",  # noqa: S106
        )

    def reset(self) -> None:
        """Drop all state (buckets, objects, ...)."""
        httpx.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()


def start_moto_server(work_dir: Path, timeout: float = 60.0) -> MotoServer:
    """Start `moto_server` on a free loopback port."""
    binary = require_binary("moto_server", "install the extra aiinfra-shared[moto]")
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    process = ServiceProcess(
        "moto_server", [binary, "-H", LOOPBACK, "-p", str(port)], work_dir / "moto.log",
        ready_http=f"{url}/moto-api/data.json", timeout=timeout,
    )
    process.start()
    return MotoServer(process=process, endpoint_url=url)


# --------------------------------------------------------------------------- Prometheus


@dataclass
class Prometheus(_Handle):
    """A Prometheus server with a caller-supplied config (lifecycle API enabled)."""

    url: str
    config_path: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; returns `data.result`."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def targets(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/targets", timeout=10)
        response.raise_for_status()
        return list(response.json()["data"]["activeTargets"])

    def alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/alerts", timeout=10)
        response.raise_for_status()
        return list(response.json()["data"]["alerts"])

    def reload(self) -> None:
        httpx.post(f"{self.url}/-/reload", timeout=10).raise_for_status()

    def wait_for_targets_up(self, timeout: float = 30.0) -> bool:
        """Wait until every active target reports health 'up'."""
        def all_up() -> bool:
            targets = self.targets()
            return bool(targets) and all(t.get("health") == "up" for t in targets)

        return wait_until(all_up, timeout, interval=0.5)


def start_prometheus(
    work_dir: Path,
    config: str | Mapping[str, Any],
    rule_files: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Prometheus:
    """Start Prometheus with `config` (YAML text or a dict).

    `rule_files` maps file names to YAML text; they are written next to the config, so the
    config can list them by bare name under `rule_files`.
    """
    binary = require_binary("prometheus", "apt-get install prometheus (make setup)")
    work_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (rule_files or {}).items():
        (work_dir / name).write_text(text)
    config_path = work_dir / "prometheus.yml"
    config_path.write_text(config if isinstance(config, str) else yaml.safe_dump(dict(config)))
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    process = ServiceProcess(
        "prometheus",
        [binary, f"--config.file={config_path}", f"--storage.tsdb.path={work_dir / 'data'}",
         f"--web.listen-address={LOOPBACK}:{port}", "--web.enable-lifecycle",
         "--web.enable-admin-api"],
        work_dir / "prometheus.log", ready_http=f"{url}/-/ready", timeout=timeout,
    )
    process.start()
    return Prometheus(process=process, url=url, config_path=config_path)


# --------------------------------------------------------------------------- Alertmanager


@dataclass
class Alertmanager(_Handle):
    """Alertmanager (clustering disabled) with its v2 API."""

    url: str
    config_path: Path

    def alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        return list(response.json())

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()


DEFAULT_ALERTMANAGER_CONFIG: dict[str, Any] = {
    "route": {"receiver": "null", "group_wait": "1s", "group_interval": "1s",
              "repeat_interval": "1h"},
    "receivers": [{"name": "null"}],
}


def start_alertmanager(
    work_dir: Path, config: str | Mapping[str, Any] | None = None, timeout: float = 60.0
) -> Alertmanager:
    """Start Alertmanager with `config` (YAML text or dict; a no-op receiver by default)."""
    binary = require_binary(
        "prometheus-alertmanager", "apt-get install prometheus-alertmanager (make setup)"
    )
    work_dir.mkdir(parents=True, exist_ok=True)
    config = config if config is not None else DEFAULT_ALERTMANAGER_CONFIG
    config_path = work_dir / "alertmanager.yml"
    config_path.write_text(config if isinstance(config, str) else yaml.safe_dump(dict(config)))
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    process = ServiceProcess(
        "alertmanager",
        [binary, f"--config.file={config_path}", f"--storage.path={work_dir / 'data'}",
         f"--web.listen-address={LOOPBACK}:{port}", "--cluster.listen-address="],
        work_dir / "alertmanager.log", ready_http=f"{url}/-/ready", timeout=timeout,
    )
    process.start()
    return Alertmanager(process=process, url=url, config_path=config_path)


# --------------------------------------------------------------------------- Pushgateway


@dataclass
class Pushgateway(_Handle):
    url: str

    def metrics_text(self) -> str:
        response = httpx.get(f"{self.url}/metrics", timeout=10)
        response.raise_for_status()
        return response.text


def start_pushgateway(work_dir: Path, timeout: float = 60.0) -> Pushgateway:
    """Start the Prometheus Pushgateway on a free loopback port."""
    binary = require_binary(
        "prometheus-pushgateway", "apt-get install prometheus-pushgateway (make setup)"
    )
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    process = ServiceProcess(
        "pushgateway", [binary, f"--web.listen-address={LOOPBACK}:{port}"],
        work_dir / "pushgateway.log", ready_http=f"{url}/-/ready", timeout=timeout,
    )
    process.start()
    return Pushgateway(process=process, url=url)


# --------------------------------------------------------------------------- OCI registry


@dataclass
class OciRegistry(_Handle):
    """A CNCF distribution registry with deletes enabled, storing blobs under `root_dir`."""

    url: str
    host: str
    root_dir: Path
    config_path: Path
    binary: str = ""

    def garbage_collect(self, delete_untagged: bool = False) -> str:
        """Run `registry garbage-collect` on the storage (safe while idle) and return its log."""
        command = [self.binary, "garbage-collect", str(self.config_path)]
        if delete_untagged:
            command.append("--delete-untagged")
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"garbage-collect failed: {result.stderr.strip()}")
        return result.stdout + result.stderr

    def disk_usage(self) -> int:
        """Bytes stored under the registry root."""
        return sum(p.stat().st_size for p in self.root_dir.rglob("*") if p.is_file())

    def catalog(self) -> list[str]:
        response = httpx.get(f"{self.url}/v2/_catalog", timeout=10)
        response.raise_for_status()
        return list(response.json().get("repositories") or [])


def start_oci_registry(work_dir: Path, timeout: float = 60.0) -> OciRegistry:
    """Start Debian's `docker-registry` (distribution 2.8) with a filesystem store."""
    binary = require_binary("docker-registry", "apt-get install docker-registry (make setup)")
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    root_dir = work_dir / "storage"
    config = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root_dir)}, "delete": {"enabled": True},
                    "cache": {"blobdescriptor": "inmemory"}},
        "http": {"addr": f"{LOOPBACK}:{port}", "secret": "test-only-secret"},
    }
    config_path = work_dir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    url = f"http://{LOOPBACK}:{port}"
    process = ServiceProcess(
        "oci-registry", [binary, "serve", str(config_path)], work_dir / "registry.log",
        ready_http=f"{url}/v2/", timeout=timeout,
    )
    process.start()
    return OciRegistry(process=process, url=url, host=f"{LOOPBACK}:{port}", root_dir=root_dir,
                       config_path=config_path, binary=binary)


# --------------------------------------------------------------------------- Kafka protocol


@dataclass
class KafkaBroker(_Handle):
    """A Kafka-protocol broker (noida-db) on loopback."""

    bootstrap_servers: str
    data_dir: Path
    elasticsearch_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def start_kafka_broker(work_dir: Path, timeout: float = 90.0) -> KafkaBroker:
    """Start noida-db with only its Kafka and Elasticsearch-API front ends."""
    binary = require_binary("noida-db", "install the extra aiinfra-shared[kafka]")
    data_dir = work_dir / "noida-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    kafka_port, es_port = free_port(), free_port()
    process = ServiceProcess(
        "kafka-broker",
        [binary, "start", "--data-dir", str(data_dir), "--only", "kafka,elasticsearch",
         "--kafka-port", str(kafka_port), "--elasticsearch-port", str(es_port)],
        work_dir / "kafka.log", ready_tcp=(LOOPBACK, kafka_port), timeout=timeout,
    )
    process.start()
    return KafkaBroker(process=process, bootstrap_servers=f"{LOOPBACK}:{kafka_port}",
                       data_dir=data_dir, elasticsearch_url=f"http://{LOOPBACK}:{es_port}")
