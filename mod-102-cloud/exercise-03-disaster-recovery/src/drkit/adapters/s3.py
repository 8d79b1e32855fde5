"""S3 (or moto) through boto3: the backup repository, artifact and config buckets.

Every put sends a SHA-256 checksum (S3 verifies it on arrival; Object Lock buckets require
one) and every failure to reach the endpoint becomes one UnavailableError line.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from drkit.errors import ConflictError, IntegrityError, NotFoundError, UnavailableError

_RETRIES = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=3,
                  read_timeout=60)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime
    version_id: str | None = None
    sha256: str | None = None  # hex, from user metadata when drkit wrote it


@dataclass(frozen=True)
class VersionInfo:
    key: str
    version_id: str
    size: int
    last_modified: datetime
    is_latest: bool


def make_client(endpoint_url: str, region: str) -> Any:
    """A boto3 S3 client; test credentials when pointing at a local endpoint."""
    kwargs: dict[str, Any] = {"region_name": region, "config": _RETRIES}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
        kwargs.setdefault("aws_access_key_id", "testing")
        kwargs.setdefault("aws_secret_access_key", "testing")
    return boto3.client("s3", **kwargs)


class ObjectStore:
    """A bucket with the few operations drkit needs."""

    def __init__(self, client: Any, bucket: str, label: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.label = label or bucket

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(Bucket=self.bucket, **kwargs)
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise UnavailableError(f"bucket {self.label} unreachable during {what}: "
                                   f"{type(exc).__name__}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NoSuchVersion"):
                raise NotFoundError(f"{self.label}: {kwargs.get('Key', '')} not found") from exc
            if code == "NoSuchBucket":
                raise UnavailableError(f"bucket {self.label} does not exist") from exc
            if code == "AccessDenied":
                raise ConflictError(f"{self.label}: {what} refused (AccessDenied; "
                                    "Object Lock?)") from exc
            raise UnavailableError(f"{self.label}: {what} failed: {code or exc}") from exc

    # ---------------------------------------------------------------- buckets

    def ensure(self, *, versioned: bool = False, lock_days: int = 0) -> None:
        """Create the bucket if absent (with versioning, and Object Lock COMPLIANCE)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            exists = True
        except ClientError:
            exists = False
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise UnavailableError(f"bucket {self.label} unreachable: "
                                   f"{type(exc).__name__}") from exc
        if not exists:
            kwargs: dict[str, Any] = {}
            region = self.client.meta.region_name
            if region and region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            if lock_days:
                kwargs["ObjectLockEnabledForBucket"] = True
            self._call("create bucket", self.client.create_bucket, **kwargs)
        if versioned or lock_days:
            self._call("enable versioning", self.client.put_bucket_versioning,
                       VersioningConfiguration={"Status": "Enabled"})
        if lock_days:
            self._call("configure object lock", self.client.put_object_lock_configuration,
                       ObjectLockConfiguration={
                           "ObjectLockEnabled": "Enabled",
                           "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE",
                                                         "Days": lock_days}}})

    def object_lock(self) -> dict[str, Any] | None:
        try:
            response = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError:
            return None
        return dict(response.get("ObjectLockConfiguration", {}))

    def put_replication_config(self, destination_arn: str, role_arn: str) -> None:
        """Store a CRR configuration (on moto it is kept but nothing is copied)."""
        self._call("put replication", self.client.put_bucket_replication,
                   ReplicationConfiguration={"Role": role_arn, "Rules": [{
                       "ID": "dr", "Status": "Enabled", "Priority": 1, "Filter": {},
                       "DeleteMarkerReplication": {"Status": "Disabled"},
                       "Destination": {"Bucket": destination_arn}}]})

    # ---------------------------------------------------------------- objects

    def put(self, key: str, data: bytes, sha256_hex: str | None = None,
            metadata: dict[str, str] | None = None) -> str | None:
        """Upload with a SHA-256 checksum S3 verifies; returns the version id."""
        digest = sha256_hex or hashlib.sha256(data).hexdigest()
        meta = {"sha256": digest, **(metadata or {})}
        # ChecksumAlgorithm makes the SDK send the SHA-256 header S3 verifies (and Object
        # Lock requires); S3 answers with the checksum it computed, which must be ours.
        response = self._call("put " + key, self.client.put_object, Key=key, Body=data,
                              ChecksumAlgorithm="SHA256", Metadata=meta)
        expected = base64.b64encode(bytes.fromhex(digest)).decode()
        returned = response.get("ChecksumSHA256")
        if returned and returned != expected:
            raise IntegrityError(f"{self.label}: {key} stored with checksum {returned}, "
                                 f"expected {expected}")
        version = response.get("VersionId")
        return str(version) if version else None

    def get(self, key: str, version_id: str | None = None) -> bytes:
        kwargs: dict[str, Any] = {"Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        response = self._call("get " + key, self.client.get_object, **kwargs)
        return bytes(response["Body"].read())

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        kwargs: dict[str, Any] = {"Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        response = self._call("head " + key, self.client.head_object, **kwargs)
        return ObjectInfo(key, int(response["ContentLength"]), response["LastModified"],
                          response.get("VersionId"), response.get("Metadata", {}).get("sha256"))

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except NotFoundError:
            return False
        return True

    def delete(self, key: str, version_id: str | None = None) -> None:
        kwargs: dict[str, Any] = {"Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        self._call("delete " + key, self.client.delete_object, **kwargs)

    def objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list " + prefix, self.client.list_objects_v2, **kwargs)
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"], int(item["Size"]), item["LastModified"])
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def versions(self, prefix: str = "") -> list[VersionInfo]:
        page = self._call("list versions", self.client.list_object_versions, Prefix=prefix)
        return [VersionInfo(v["Key"], v["VersionId"], int(v["Size"]), v["LastModified"],
                            bool(v["IsLatest"])) for v in page.get("Versions", [])]

    def retain_until(self, key: str) -> datetime | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        value = response.get("ObjectLockRetainUntilDate")
        return value if isinstance(value, datetime) else None


def lock_expired(retain_until: datetime | None, now: datetime | None = None) -> bool:
    if retain_until is None:
        return True
    return retain_until <= (now or datetime.now(UTC)) - timedelta(seconds=0)
