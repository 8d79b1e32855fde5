"""Every service fixture starts the real server and is used for real."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aiinfra_shared.testing import (
    Alertmanager,
    KafkaBroker,
    MotoServer,
    OciRegistry,
    Postgres,
    Prometheus,
    Pushgateway,
)

pytestmark = pytest.mark.integration


def test_postgres_runs_queries(postgres: Postgres) -> None:
    url = postgres.create_database("shared_test")
    assert url.endswith("/shared_test")
    postgres.psql("CREATE TABLE runs (id serial PRIMARY KEY, name text)", "shared_test")
    postgres.psql("INSERT INTO runs (name) VALUES ('a'), ('b')", "shared_test")
    assert postgres.psql("SELECT count(*) FROM runs", "shared_test") == "2"

    import psycopg

    with psycopg.connect(postgres.url("shared_test")) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM runs ORDER BY id")]
    assert names == ["a", "b"]


def test_moto_s3_put_get(moto_server: MotoServer) -> None:
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="model.bin", Body=b"weights")
    assert s3.get_object(Bucket="artifacts", Key="model.bin")["Body"].read() == b"weights"
    moto_server.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_prometheus_scrapes_a_pushgateway(
    prometheus_factory: Callable[..., Prometheus], pushgateway: Pushgateway
) -> None:
    body = "# TYPE job_duration_seconds gauge\njob_duration_seconds 42.5\n"
    httpx.post(f"{pushgateway.url}/metrics/job/nightly", content=body, timeout=10)
    assert "job_duration_seconds" in pushgateway.metrics_text()

    host = pushgateway.url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "scrape_configs": [{"job_name": "pushgateway", "honor_labels": True,
                            "static_configs": [{"targets": [host]}]}],
    }
    rules = (
        "groups:\n- name: test\n  rules:\n  - alert: JobTooSlow\n"
        "    expr: job_duration_seconds > 10\n"
    )
    prom = prometheus_factory(config, rule_files={"rules.yml": rules})
    assert prom.wait_for_targets_up(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not prom.query("job_duration_seconds"):
        time.sleep(0.5)
    result = prom.query("job_duration_seconds")
    assert result and float(result[0]["value"][1]) == 42.5
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not prom.alerts():
        time.sleep(0.5)
    assert [a["labels"]["alertname"] for a in prom.alerts()] == ["JobTooSlow"]


def test_alertmanager_accepts_and_lists_alerts(alertmanager: Alertmanager) -> None:
    alertmanager.post_alerts([{"labels": {"alertname": "DiskFull", "severity": "page"}}])
    names = [a["labels"]["alertname"] for a in alertmanager.alerts()]
    assert "DiskFull" in names


def _push_image(registry: OciRegistry, repo: str, tag: str, payload: bytes) -> str:
    """Push a one-layer image with the raw distribution API and return its manifest digest."""
    import hashlib
    import json

    def upload(blob: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        start = httpx.post(f"{registry.url}/v2/{repo}/blobs/uploads/", timeout=10)
        location = start.headers["Location"]
        if location.startswith("/"):
            location = registry.url + location
        separator = "&" if "?" in location else "?"  # keep the registry's _state parameter
        put = httpx.put(f"{location}{separator}digest={digest}", content=blob, timeout=10)
        assert put.status_code == 201, put.text
        return digest

    layer = upload(payload)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [layer]}}).encode()
    config_digest = upload(config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer, "size": len(payload)}],
    }).encode()
    response = httpx.put(
        f"{registry.url}/v2/{repo}/manifests/{tag}", content=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.headers["Docker-Content-Digest"])


def test_two_registries_push_copy_delete_gc(
    oci_registry_factory: Callable[[], OciRegistry], tmp_path: Path
) -> None:
    source, target = oci_registry_factory(), oci_registry_factory()
    assert source.url != target.url
    digest = _push_image(source, "team/model", "v1", b"x" * 200_000)
    assert source.catalog() == ["team/model"]

    # a third-party client (skopeo) copies between the two registries
    subprocess.run(
        ["skopeo", "copy", "--preserve-digests",
         "--src-tls-verify=false", "--dest-tls-verify=false",
         f"docker://{source.host}/team/model:v1", f"docker://{target.host}/team/model:v1"],
        check=True, capture_output=True, timeout=120,
    )
    head = httpx.head(f"{target.url}/v2/team/model/manifests/v1", headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=10)
    assert head.headers["Docker-Content-Digest"] == digest

    before = source.disk_usage()
    deleted = httpx.delete(f"{source.url}/v2/team/model/manifests/{digest}", timeout=10)
    assert deleted.status_code == 202
    source.garbage_collect()
    assert source.disk_usage() < before - 150_000


def test_kafka_broker_produce_consume(kafka_broker: KafkaBroker) -> None:
    from confluent_kafka import Consumer, Producer

    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    for i in range(3):
        producer.produce("events", key=str(i), value=f"event-{i}".encode())
    assert producer.flush(30) == 0

    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap_servers,
                         "group.id": "shared-test", "auto.offset.reset": "earliest"})
    consumer.subscribe(["events"])
    values: list[str] = []
    deadline = time.monotonic() + 30
    while len(values) < 3 and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            values.append(message.value().decode())
    consumer.close()
    assert values == ["event-0", "event-1", "event-2"]
