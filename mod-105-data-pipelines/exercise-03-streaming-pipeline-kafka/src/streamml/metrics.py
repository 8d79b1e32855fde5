"""Prometheus metrics of the pipeline, and the consumer-lag collector.

Every stage records into the process's default registry; `serve_metrics` exposes it. Names
are the contract with deploy/prometheus (rules) and deploy/grafana (dashboard): a test runs
every rule and panel query against a Prometheus scraping these.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

RECORDS_IN = Counter("streamml_records_in_total", "Records consumed by a stage", ["stage"])
RECORDS_OUT = Counter("streamml_records_out_total", "Records produced by a stage",
                      ["stage", "topic"])
DLQ = Counter("streamml_dlq_records_total", "Records sent to the dead-letter topic",
              ["reason"])
QUALITY_FAILURES = Counter("streamml_quality_failures_total",
                           "Events failing a data-quality rule", ["rule"])
TRANSACTIONS = Counter("streamml_transactions_total", "Kafka transactions by outcome",
                       ["stage", "outcome"])
LATENCY = Histogram("streamml_event_to_output_seconds",
                    "Event time to output produced, per stage", ["stage"],
                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400,
                             float("inf")))
SINK_BATCHES = Counter("streamml_sink_batches_total",
                       "Spark micro-batches by sink and outcome (written / skipped replay)",
                       ["sink", "outcome"])
SPARK_INPUT_ROWS = Counter("streamml_spark_input_rows_total",
                           "Rows read by the Spark query", ["query"])
SPARK_ROWS_PER_SECOND = Gauge("streamml_spark_processed_rows_per_second",
                              "Processing rate of the last micro-batch", ["query"])
SPARK_BATCH_SECONDS = Gauge("streamml_spark_batch_duration_seconds",
                            "Duration of the last micro-batch", ["query"])
SPARK_LATE_ROWS = Counter("streamml_spark_late_rows_total",
                          "Rows dropped by the watermark (too late to aggregate)", ["query"])
SPARK_BATCH_ID = Gauge("streamml_spark_last_batch_id", "Last completed batch id", ["query"])


@dataclass(frozen=True)
class LagTarget:
    group: str
    topic: str


class LagCollector(Collector):
    """Consumer lag per partition, computed at scrape time from the broker.

    `list_consumer_group_offsets` gives each group's committed offsets, `list_offsets` the
    partitions' last stable offsets; the difference is what is produced but not consumed.
    """

    def __init__(self, bootstrap: str, targets: Sequence[LagTarget],
                 timeout: float = 5.0) -> None:
        self.bootstrap, self.targets, self.timeout = bootstrap, list(targets), timeout

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from streamml.adapters.kafka import group_lag

        family = GaugeMetricFamily("streamml_consumer_lag_records",
                                   "Records produced but not consumed by the group",
                                   labels=["group", "topic", "partition"])
        up = GaugeMetricFamily("streamml_lag_exporter_up",
                               "1 if the broker answered the last lag query", labels=[])
        ok = 1.0
        for target in self.targets:
            try:
                lag = group_lag(self.bootstrap, target.group, target.topic, self.timeout)
            except Exception as exc:
                log.warning("lag query for %s failed: %s", target.group, exc)
                ok = 0.0
                continue
            for partition, value in sorted(lag.items()):
                family.add_metric([target.group, target.topic, str(partition)], float(value))
        up.add_metric([], ok)
        yield family
        yield up


def serve_metrics(port: int, host: str = "127.0.0.1",
                  registry: CollectorRegistry = REGISTRY) -> object:
    """Expose `registry` on http://host:port/metrics (a daemon thread); returns the server."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
