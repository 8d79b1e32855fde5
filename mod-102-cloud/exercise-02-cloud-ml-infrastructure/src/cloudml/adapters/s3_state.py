"""The S3 state bucket through boto3: bootstrap it, list and restore state versions, locks.

boto3 reads credentials and AWS_ENDPOINT_URL from the environment like the AWS provider does,
so this talks to moto in tests and to S3 in production without a code path of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from cloudml.errors import CloudMLError, MissingError, UnavailableError
from cloudml.state import StateVersion


@dataclass(frozen=True)
class BootstrapResult:
    bucket: str
    created: bool
    versioning: str
    encryption: str
    public_access_blocked: bool


class StateBucket:
    """One state bucket."""

    def __init__(self, bucket: str, region: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self.region = region
        self.s3 = client or boto3.client("s3", region_name=region)

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except EndpointConnectionError as exc:
            raise UnavailableError(f"S3 is unreachable while trying to {what}: {exc}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchBucket", "404"}:
                raise MissingError(f"state bucket {self.bucket} does not exist: run "
                                   "`cloudml state bootstrap`") from exc
            if code in {"NoSuchKey", "NoSuchVersion"}:
                raise MissingError(f"{what}: not found ({code})") from exc
            raise CloudMLError(f"S3 refused to {what}: {code}: "
                               f"{exc.response.get('Error', {}).get('Message', '')}") from exc
        except BotoCoreError as exc:
            raise UnavailableError(f"cannot {what}: {exc}") from exc

    def bootstrap(self) -> BootstrapResult:
        """Create (or bring into line) a versioned, encrypted, private bucket. Idempotent."""
        created = False
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self._call("create the state bucket", self.s3.create_bucket, **kwargs)
            created = True
        except EndpointConnectionError as exc:
            raise UnavailableError(f"S3 is unreachable: {exc}") from exc
        self._call("enable versioning", self.s3.put_bucket_versioning, Bucket=self.bucket,
                   VersioningConfiguration={"Status": "Enabled"})
        self._call("enable encryption", self.s3.put_bucket_encryption, Bucket=self.bucket,
                   ServerSideEncryptionConfiguration={"Rules": [{
                       "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                       "BucketKeyEnabled": True}]})
        self._call("block public access", self.s3.put_public_access_block, Bucket=self.bucket,
                   PublicAccessBlockConfiguration={
                       "BlockPublicAcls": True, "IgnorePublicAcls": True,
                       "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        versioning = self._call("read versioning", self.s3.get_bucket_versioning,
                                Bucket=self.bucket).get("Status", "")
        rules = self._call("read encryption", self.s3.get_bucket_encryption, Bucket=self.bucket)
        algorithm = rules["ServerSideEncryptionConfiguration"]["Rules"][0][
            "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        block = self._call("read the public access block", self.s3.get_public_access_block,
                           Bucket=self.bucket)["PublicAccessBlockConfiguration"]
        return BootstrapResult(self.bucket, created, versioning, algorithm, all(block.values()))

    def versions(self, key: str) -> list[StateVersion]:
        """Every version of `key`, newest first (delete markers left out)."""
        found: list[StateVersion] = []
        paginator = self.s3.get_paginator("list_object_versions")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=key):
                for item in page.get("Versions", []):
                    if item["Key"] == key:
                        found.append(StateVersion(str(item["VersionId"]), item["LastModified"],
                                                  int(item["Size"]), bool(item["IsLatest"])))
        except ClientError as exc:
            self._call("list state versions", _raise, exc=exc)
        return sorted(found, key=lambda v: v.last_modified, reverse=True)

    def current_version(self, key: str) -> str | None:
        """The version id of the object's current version (None: no such object)."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return None
            return str(self._call(f"read {key}", _raise, exc=exc))
        version = head.get("VersionId")
        return None if version in (None, "null") else str(version)

    def restore(self, key: str, version_id: str) -> str:
        """Copy an old version over the current one; returns the new current version id."""
        reply = self._call(f"restore version {version_id}", self.s3.copy_object,
                           Bucket=self.bucket, Key=key,
                           CopySource={"Bucket": self.bucket, "Key": key,
                                       "VersionId": version_id})
        return str(reply.get("VersionId", ""))

    def read(self, key: str) -> bytes | None:
        """An object's body, or None when it does not exist."""
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            return bytes(self._call(f"read {key}", _raise, exc=exc))
        return body

    def delete(self, key: str) -> None:
        self._call(f"delete {key}", self.s3.delete_object, Bucket=self.bucket, Key=key)


def _raise(exc: Exception) -> Any:
    raise exc
