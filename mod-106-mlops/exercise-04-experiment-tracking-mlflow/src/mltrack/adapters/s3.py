"""Adapter for the S3 artifact store (moto locally, any S3 in production)."""

from __future__ import annotations

from typing import Any

import boto3


def s3_client(endpoint_url: str | None, access_key: str = "testing",
              secret_key: str = "testing", region: str = "us-east-1") -> Any:
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key)


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
