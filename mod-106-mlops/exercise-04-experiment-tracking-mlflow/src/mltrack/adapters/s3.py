"""Adapter for the S3 artifact store (moto locally, any S3 in production)."""

from __future__ import annotations

from typing import Any


def ensure_bucket(client: Any, bucket: str) -> None:
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)


def list_keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every object key under `prefix` (follows pagination)."""
    keys: list[str] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys
