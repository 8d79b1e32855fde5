"""Trace ingest (OTLP/HTTP protobuf, Zipkin JSON v2) into SQLite, service graph, critical
paths and tail sampling."""
