"""Start real servers on loopback: moto, Prometheus, Alertmanager, Pushgateway, an OCI
registry (CNCF distribution), a Kafka-protocol broker and an Elasticsearch API (noida-db).
PostgreSQL is in `procs.postgres` (re-exported here).

Each `start_*` function takes a working directory it may own, starts the server, waits for
readiness and returns a small handle with the URL and a few helpers. `handle.stop()` ends it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.procs.ports import free_port, wait_until
from aiinfra_shared.procs.postgres import Postgres as Postgres  # re-exported: old imports
from aiinfra_shared.procs.postgres import start_postgres as start_postgres
from aiinfra_shared.procs.postgres import start_postgres_replica as start_postgres_replica
from aiinfra_shared.procs.process import ServiceProcess, ServiceStartError

LOOPBACK = "127.0.0.1"


@dataclass
class _Handle:
    process: ServiceProcess

    def stop(self) -> None:
        self.process.stop()

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)


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
    data_dir: Path = field(default_factory=Path)

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; returns `data.result`."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def query_range(self, expr: str, start: float, end: float, step: float | str = 60
                    ) -> list[dict[str, Any]]:
        """Range query (unix-second bounds); returns `data.result` (one matrix per series)."""
        response = httpx.get(f"{self.url}/api/v1/query_range", timeout=30, params={
            "query": expr, "start": str(start), "end": str(end), "step": str(step)})
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


Backfill = str | Path | Sequence[str | Path]

# Retention when data is backfilled: Prometheus deletes blocks older than retention (15d by
# default) within seconds of starting, so weeks of history would vanish. 100y is its maximum.
BACKFILL_RETENTION = "100y"


def backfill_prometheus(data_dir: Path, openmetrics: Backfill, work_dir: Path | None = None
                        ) -> list[Path]:
    """Turn OpenMetrics samples into TSDB blocks in `data_dir` (Prometheus not running).

    `openmetrics` is OpenMetrics text (timestamps in seconds, ending with `# EOF`), a file
    path (a Path, or a one-line str naming an existing file), or a list of either. Uses
    `promtool tsdb create-blocks-from openmetrics`. Blocks must be in place BEFORE
    Prometheus starts: blocks copied into a running server appear only about a minute
    later, at its next block reload. Returns the input files used.
    """
    promtool = require_binary("promtool", "apt-get install prometheus (make setup)")
    items: Sequence[str | Path] = (
        [openmetrics] if isinstance(openmetrics, str | Path) else openmetrics
    )
    scratch = work_dir or data_dir.parent
    scratch.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    inputs: list[Path] = []
    for index, item in enumerate(items):
        if isinstance(item, Path) or ("\n" not in item and Path(item).is_file()):
            path = Path(item)
        else:
            path = scratch / f"backfill-{index}.om"
            path.write_text(item if item.endswith("\n") else item + "\n")
        result = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(path),
             str(data_dir)],
            capture_output=True, text=True, check=False, timeout=300,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()[-2000:]
            raise ServiceStartError(f"promtool backfill of {path} failed: {detail}")
        inputs.append(path)
    return inputs


def start_prometheus(
    work_dir: Path,
    config: str | Mapping[str, Any],
    rule_files: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    *,
    backfill: Backfill | None = None,
    retention: str | None = None,
    extra_flags: Sequence[str] = (),
) -> Prometheus:
    """Start Prometheus with `config` (YAML text or a dict).

    `rule_files` maps file names to YAML text; they are written next to the config, so the
    config can list them by bare name under `rule_files`. `backfill` (OpenMetrics text, a
    file path, or a list) is loaded into the data dir before start, so range queries over it
    answer at once; it sets `retention` (`--storage.tsdb.retention.time`) to 100y unless
    given, so old samples are not deleted. `extra_flags` are appended to the command line,
    e.g. `["--enable-feature=exemplar-storage"]`.
    """
    binary = require_binary("prometheus", "apt-get install prometheus (make setup)")
    work_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (rule_files or {}).items():
        (work_dir / name).write_text(text)
    config_path = work_dir / "prometheus.yml"
    config_path.write_text(config if isinstance(config, str) else yaml.safe_dump(dict(config)))
    data_dir = work_dir / "data"
    if backfill is not None:
        backfill_prometheus(data_dir, backfill, work_dir)
        retention = retention or BACKFILL_RETENTION
    flags = [f"--storage.tsdb.retention.time={retention}"] if retention else []
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    process = ServiceProcess(
        "prometheus",
        [binary, f"--config.file={config_path}", f"--storage.tsdb.path={data_dir}",
         f"--web.listen-address={LOOPBACK}:{port}", "--web.enable-lifecycle",
         "--web.enable-admin-api", *flags, *extra_flags],
        work_dir / "prometheus.log", ready_http=f"{url}/-/ready", timeout=timeout,
    )
    process.start()
    return Prometheus(process=process, url=url, config_path=config_path, data_dir=data_dir)


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


def _start_noida(work_dir: Path, name: str, ports: Mapping[str, int], hint: str,
                 timeout: float, ready_tcp: tuple[str, int] | None = None,
                 ready_http: str | None = None) -> tuple[ServiceProcess, Path]:
    """Start noida-db in the foreground with only the front ends in `ports` (service: port).

    One launcher for every noida-db service, so the broker and the Elasticsearch API start
    the same way. It prints a harmless GLIBC warning into its log.
    """
    binary = require_binary("noida-db", hint)
    data_dir = work_dir / "noida-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [binary, "start", "--data-dir", str(data_dir), "--only", ",".join(ports)]
    for service, port in ports.items():
        command += [f"--{service}-port", str(port)]
    process = ServiceProcess(name, command, work_dir / f"{name}.log", ready_tcp=ready_tcp,
                             ready_http=ready_http, timeout=timeout)
    process.start()
    return process, data_dir


def start_kafka_broker(work_dir: Path, timeout: float = 90.0) -> KafkaBroker:
    """Start noida-db with only its Kafka and Elasticsearch-API front ends."""
    kafka_port, es_port = free_port(), free_port()
    process, data_dir = _start_noida(
        work_dir, "kafka-broker", {"kafka": kafka_port, "elasticsearch": es_port},
        "install the extra aiinfra-shared[kafka]", timeout, ready_tcp=(LOOPBACK, kafka_port))
    return KafkaBroker(process=process, bootstrap_servers=f"{LOOPBACK}:{kafka_port}",
                       data_dir=data_dir, elasticsearch_url=f"http://{LOOPBACK}:{es_port}")


# --------------------------------------------------------------------------- Elasticsearch API


@dataclass
class ElasticsearchServer(_Handle):
    """noida-db's Elasticsearch API (answers as 8.15.3) for the official 8.x client.

    Works: index/get/delete, `_bulk` (and `helpers.bulk`), dynamic mappings with `.keyword`
    sub-fields, `match`/`term`/`range`/`bool` queries, `terms`, `avg`/`max`, `date_histogram`
    aggregations, `count`, refresh. Missing: the `percentiles` aggregation and ILM
    (`/_ilm/...` answers 400), and it is more lenient than Elasticsearch (a terms aggregation
    on a `text` field works here; a real cluster rejects it: aggregate on `field.keyword`).
    """

    url: str
    data_dir: Path

    def client(self, **kwargs: Any) -> Any:
        """An `elasticsearch.Elasticsearch` client for this server (needs the client package)."""
        from elasticsearch import Elasticsearch  # optional dependency, only when used

        kwargs.setdefault("request_timeout", 30)
        return Elasticsearch(self.url, **kwargs)


def start_elasticsearch(work_dir: Path, timeout: float = 90.0) -> ElasticsearchServer:
    """Start noida-db with only its Elasticsearch-API front end on a free loopback port."""
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    process, data_dir = _start_noida(
        work_dir, "elasticsearch", {"elasticsearch": port},
        "install the extra aiinfra-shared[elasticsearch]", timeout, ready_http=f"{url}/")
    return ElasticsearchServer(process=process, url=url, data_dir=data_dir)
