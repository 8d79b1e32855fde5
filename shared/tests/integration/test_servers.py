"""The fixtures of `aiinfra_shared.testing.fixtures_servers` and the Prometheus options, each
started for real and used the way the exercises will use them."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiinfra_shared.testing import ElasticsearchServer, OtlpReceiver, Prometheus, SmtpServer
from aiinfra_shared.testing.fixtures_servers import PostgresFactory

pytestmark = pytest.mark.integration


# --------------------------------------------------------------------------- Prometheus


def _openmetrics(now: float) -> str:
    """A counter with one sample a minute over the last hour (+10 per minute), and a gauge
    with one sample a day for 40 days: older than Prometheus' default 15-day retention."""
    lines = ["# HELP http_requests Requests served.", "# TYPE http_requests counter"]
    for minute in range(60, 0, -1):
        value, timestamp = (60 - minute) * 10, int(now) - minute * 60
        lines.append(f'http_requests_total{{job="api"}} {value} {timestamp}')
    lines.append("# TYPE model_accuracy gauge")
    for day in range(40, 0, -1):
        lines.append(f'model_accuracy{{model="churn"}} 0.9 {int(now) - day * 86400}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def test_prometheus_backfill_answers_right_after_start(
    prometheus_factory: Callable[..., Prometheus], tmp_path: Path
) -> None:
    now = time.time()
    history = tmp_path / "history.om"
    history.write_text(_openmetrics(now))
    prom = prometheus_factory({"global": {"scrape_interval": "15s"}}, backfill=history,
                              extra_flags=["--enable-feature=exemplar-storage"])

    # instant query: the newest backfilled sample is 1 minute old, inside the 5m lookback
    instant = prom.query('http_requests_total{job="api"}')
    assert [float(r["value"][1]) for r in instant] == [590.0]

    # range query over the backfilled hour: 10 per minute is 1/6 per second
    series = prom.query_range("rate(http_requests_total[5m])", now - 2400, now - 600, step=600)
    values = [float(v) for _, v in series[0]["values"]]
    assert len(values) == 4 and all(v == pytest.approx(1 / 6) for v in values)

    # long retention keeps samples older than the default 15 days
    assert prom.query("count_over_time(model_accuracy[60d])")[0]["value"][1] == "40"

    cmdline = httpx.get(f"{prom.url}/api/v1/status/flags", timeout=10).json()["data"]
    assert cmdline["storage.tsdb.retention.time"] == "100y"
    assert "exemplar-storage" in cmdline["enable-feature"]


# --------------------------------------------------------------------------- OTLP


def test_otlp_receiver_gets_parent_and_child(otlp_receiver: OtlpReceiver) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_receiver.traces_endpoint)))
    tracer = provider.get_tracer("shared-test")
    with (tracer.start_as_current_span("handle_request", attributes={"http.route": "/predict"}),
          tracer.start_as_current_span("model.predict") as child):
        child.set_attribute("model.version", 3)
        child.add_event("cache_miss", {"key": "user-42"})
    provider.shutdown()  # flushes the batch over OTLP/HTTP

    spans = {s.name: s for s in otlp_receiver.wait_for_spans(2, timeout=15)}
    parent, child_span = spans["handle_request"], spans["model.predict"]
    assert parent.is_root and parent.attributes == {"http.route": "/predict"}
    assert child_span.parent_span_id == parent.span_id
    assert child_span.trace_id == parent.trace_id and len(parent.trace_id) == 32
    assert child_span.attributes == {"model.version": 3}
    assert child_span.events == [("cache_miss", {"key": "user-42"})]
    assert child_span.kind == "INTERNAL" and child_span.duration_ms >= 0
    with pytest.raises(TimeoutError, match="received: "):
        otlp_receiver.wait_for_spans(3, timeout=0.5)


# --------------------------------------------------------------------------- Elasticsearch


def test_elasticsearch_bulk_bool_query_terms_agg(elasticsearch: ElasticsearchServer) -> None:
    from elasticsearch import helpers

    es = elasticsearch.client()
    assert es.info()["version"]["number"].startswith("8.")
    services = ["api", "worker", "db"]
    docs = [{"_index": "shared-logs", "_id": str(i), "_source": {
        "service": services[i % 3], "level": "error" if i % 4 == 0 else "info",
        "latency_ms": i * 1.5, "@timestamp": f"2026-12-01T10:{i % 60:02d}:00Z"}}
        for i in range(120)]
    ok, errors = helpers.bulk(es, docs, refresh="wait_for")
    assert (ok, errors) == (120, [])

    hits = es.search(index="shared-logs", size=100, query={"bool": {
        "must": [{"term": {"service.keyword": "api"}}],
        "filter": [{"term": {"level.keyword": "error"}}],
        "must_not": [{"range": {"latency_ms": {"gt": 100}}}],
    }})["hits"]
    expected = [i for i in range(120) if i % 3 == 0 and i % 4 == 0 and i * 1.5 <= 100]
    assert hits["total"]["value"] == len(expected)
    assert sorted(int(h["_id"]) for h in hits["hits"]) == expected

    aggs = es.search(index="shared-logs", size=0,
                     aggs={"by_service": {"terms": {"field": "service.keyword"}}})
    buckets = {b["key"]: b["doc_count"] for b in aggs["aggregations"]["by_service"]["buckets"]}
    assert buckets == {"api": 40, "worker": 40, "db": 40}


# --------------------------------------------------------------------------- SMTP


def test_smtp_server_keeps_multipart_with_attachment(smtp_server: SmtpServer) -> None:
    message = EmailMessage()
    message["From"] = "reports@example.com"
    message["To"] = "oncall@example.com"
    message["Subject"] = "Nightly cost report"
    message.set_content("Spend rose 12% week over week.")
    message.add_alternative("<p>Spend rose <b>12%</b> week over week.</p>", subtype="html")
    message.add_attachment(b"team,cost\nml,1200\n", maintype="text", subtype="csv",
                           filename="costs.csv")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.login("reporter", "secret")
        client.send_message(message, to_addrs=["oncall@example.com", "audit@example.com"])

    [received] = smtp_server.wait_for(1, timeout=10)
    assert received["Subject"] == "Nightly cost report"
    assert received["From"] == "reports@example.com"
    body = received.get_body(preferencelist=("plain",))
    assert body is not None and "12%" in body.get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "costs.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_content() == "team,cost\nml,1200\n"
    delivery = smtp_server.deliveries[0]
    assert delivery.rcpt_tos == ["oncall@example.com", "audit@example.com"]  # Bcc shows here
    assert delivery.login == "reporter"


def test_smtp_server_with_credentials_rejects_others() -> None:
    with SmtpServer(credentials=("alerts", "s3cret")) as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("alerts", "wrong")
            client.login("alerts", "s3cret")
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
        assert server.wait_for(1)[0]["Subject"] == "hi"


# --------------------------------------------------------------------------- PostgreSQL


def _wait(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(0.2)
        value = condition()
    assert value, "condition not met"
    return value


def test_postgres_primary_replica_crash_promote(postgres_factory: PostgresFactory) -> None:
    archive = postgres_factory.directory()
    primary = postgres_factory(name="primary", settings={
        "wal_level": "replica", "wal_log_hints": True, "max_wal_senders": 5,
        "archive_mode": "on", "archive_command": f"test ! -f {archive}/%f && cp %p {archive}/%f",
    })
    assert primary.psql("SHOW wal_log_hints") == "on"
    replica = postgres_factory.replica(primary, name="standby1")
    assert replica.is_in_recovery() and not primary.is_in_recovery()
    assert primary.psql("SELECT slot_name FROM pg_replication_slots") == "standby1"

    replica.restart("fast")  # a standby stopped and started again resumes streaming
    _wait(lambda: primary.psql("SELECT application_name, state FROM pg_stat_replication")
          == "standby1|streaming")

    # synchronous replication, set the way an operator would (ALTER SYSTEM + reload)
    primary.psql("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
    primary.reload()
    _wait(lambda: primary.psql("SELECT sync_state FROM pg_stat_replication") == "sync")
    assert primary.psql("SELECT active FROM pg_replication_slots") == "t"

    primary.psql("CREATE TABLE orders (id int PRIMARY KEY, note text)")
    primary.psql("INSERT INTO orders VALUES (1, 'before the crash')")  # waits for standby1
    assert replica.psql("SELECT note FROM orders WHERE id = 1") == "before the crash"

    primary.psql("SELECT pg_switch_wal()")
    _wait(lambda: any(p.name.startswith("0000") for p in archive.iterdir()))

    primary.shutdown("immediate")
    assert not primary.running
    assert "in production" in primary.tool("pg_controldata", str(primary.data_dir))
    replica.promote()
    assert not replica.is_in_recovery()
    replica.psql("INSERT INTO orders VALUES (2, 'after failover')")
    assert replica.psql("SELECT count(*) FROM orders") == "2"

    # the old primary restarts from its crash (WAL replay), with the committed row only
    primary.start()
    assert primary.psql("SELECT string_agg(note, ',') FROM orders") == "before the crash"
    assert not primary.is_in_recovery()


def test_postgres_session_fixture_is_a_factory_cluster(postgres: Any) -> None:
    assert postgres.running and postgres.psql("SHOW fsync") == "off"
    assert postgres.url("db", "postgresql+psycopg2").startswith("postgresql+psycopg2://postgres@")
