"""S3 for the training sink: pyarrow's `S3FileSystem` (moto here, any S3 API elsewhere)."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import boto3
from pyarrow import fs


def filesystem(endpoint_url: str, region: str) -> fs.S3FileSystem:
    """An S3FileSystem for `endpoint_url`; credentials from the usual AWS env vars."""
    parsed = urlparse(endpoint_url)
    return fs.S3FileSystem(
        access_key=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        region=region, scheme=parsed.scheme or "http",
        endpoint_override=parsed.netloc or endpoint_url,
        connect_timeout=5, request_timeout=30,
    )


def ensure_bucket(endpoint_url: str, region: str, bucket: str) -> None:
    client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                          aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                          aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY",
                                                               "testing"))
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
