"""Remote state: bootstrap the backend, migrate a root to it, inspect and clear locks.

The S3 backend locks in two ways: a DynamoDB item `LockID = "<bucket>/<key>"` whose `Info`
is the lock's JSON (`dynamodb_table`), and an S3 object `<key>.tflock` holding the same JSON
(`use_lockfile = true`, Terraform >= 1.10). A root may use both while it moves from the first
to the second. `lock-status` reads both; `unlock` deletes what a crashed run left behind
(only the lock with the given ID when `--lock-id` is passed, as `terraform force-unlock` does).
AWS endpoints and credentials come from the standard variables (`AWS_ENDPOINT_URL`...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_text
from aiinfra_shared.procs.terraform import Terraform, TerraformError

from tfml.errors import ConflictError, NotFoundError, UnavailableError


@dataclass(frozen=True)
class Backend:
    bucket: str
    key: str
    region: str = "us-east-1"
    dynamodb_table: str | None = None
    use_lockfile: bool = True

    @property
    def lock_id(self) -> str:
        return f"{self.bucket}/{self.key}"

    def hcl(self) -> str:
        lines = ['terraform {', '  backend "s3" {', f"    bucket       = {json.dumps(self.bucket)}",
                 f"    key          = {json.dumps(self.key)}",
                 f"    region       = {json.dumps(self.region)}", "    encrypt      = true",
                 f"    use_lockfile = {'true' if self.use_lockfile else 'false'}"]
        if self.dynamodb_table:
            lines.append(f"    dynamodb_table = {json.dumps(self.dynamodb_table)}")
        lines += ["    use_path_style = true", "  }", "}"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Lock:
    kind: str  # dynamodb | lockfile
    info: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.info.get("ID", ""))

    def describe(self) -> str:
        who = self.info.get("Who", "?")
        op = self.info.get("Operation", "?")
        created = self.info.get("Created", "?")
        return f"{self.kind}: ID {self.id or '?'} held by {who} ({op}) since {created}"


def _clients(region: str) -> tuple[Any, Any]:
    import boto3

    session = boto3.session.Session(region_name=region)
    return session.client("s3"), session.client("dynamodb")


def _aws_call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(*args, **kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "ResourceNotFoundException", "404", "NoSuchKey"):
            raise NotFoundError(f"{what}: {code}") from None
        raise UnavailableError(f"{what}: {code or exc}") from None
    except BotoCoreError as exc:
        raise UnavailableError(f"{what}: {exc}") from None


def bootstrap(backend: Backend) -> list[str]:
    """Create (or bring into line) the state bucket and lock table; returns what was done.

    Same settings as the `state-backend` module: versioned, KMS-encrypted, public access
    blocked; the table keyed on LockID. Idempotent.
    """
    s3, dynamodb = _clients(backend.region)
    done = []
    existing = {b["Name"] for b in _aws_call("list buckets", s3.list_buckets).get("Buckets", [])}
    if backend.bucket not in existing:
        kwargs: dict[str, Any] = {"Bucket": backend.bucket}
        if backend.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": backend.region}
        _aws_call("create bucket", s3.create_bucket, **kwargs)
        done.append(f"created bucket {backend.bucket}")
    _aws_call("versioning", s3.put_bucket_versioning, Bucket=backend.bucket,
              VersioningConfiguration={"Status": "Enabled"})
    _aws_call("encryption", s3.put_bucket_encryption, Bucket=backend.bucket,
              ServerSideEncryptionConfiguration={"Rules": [{
                  "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                  "BucketKeyEnabled": True}]})
    _aws_call("public access block", s3.put_public_access_block, Bucket=backend.bucket,
              PublicAccessBlockConfiguration={
                  "BlockPublicAcls": True, "IgnorePublicAcls": True,
                  "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    done.append(f"bucket {backend.bucket}: versioning, SSE-KMS, public access blocked")
    if backend.dynamodb_table:
        tables = _aws_call("list tables", dynamodb.list_tables).get("TableNames", [])
        if backend.dynamodb_table not in tables:
            _aws_call("create table", dynamodb.create_table, TableName=backend.dynamodb_table,
                      BillingMode="PAY_PER_REQUEST",
                      AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                      KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                      SSESpecification={"Enabled": True})
            done.append(f"created lock table {backend.dynamodb_table}")
    return done


def lock_status(backend: Backend) -> list[Lock]:
    """The locks held on `backend` (an empty list: unlocked)."""
    # BEGIN SOLUTION
    s3, dynamodb = _clients(backend.region)
    locks = []
    if backend.dynamodb_table:
        item = _aws_call("read lock", dynamodb.get_item, TableName=backend.dynamodb_table,
                         Key={"LockID": {"S": backend.lock_id}}, ConsistentRead=True)
        info = item.get("Item", {}).get("Info", {}).get("S")
        if info is not None:
            locks.append(Lock("dynamodb", _parse_info(info)))
    if backend.use_lockfile:
        try:
            body = _aws_call("read lockfile", s3.get_object, Bucket=backend.bucket,
                             Key=f"{backend.key}.tflock")["Body"].read()
        except NotFoundError:
            body = None
        if body is not None:
            locks.append(Lock("lockfile", _parse_info(body.decode())))
    return locks
    # END SOLUTION


def _parse_info(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"raw": text}
    return data if isinstance(data, dict) else {"raw": text}


def unlock(backend: Backend, lock_id: str | None = None) -> list[Lock]:
    """Remove the held locks (only those with `lock_id` when given); returns what was removed."""
    # BEGIN SOLUTION
    held = lock_status(backend)
    if not held:
        raise NotFoundError(f"no lock held on {backend.lock_id}")
    chosen = [lock for lock in held if lock_id is None or lock.id == lock_id]
    if not chosen:
        ids = ", ".join(lock.id for lock in held)
        raise ConflictError(f"no lock with ID {lock_id} on {backend.lock_id} (held: {ids})")
    s3, dynamodb = _clients(backend.region)
    for lock in chosen:
        if lock.kind == "dynamodb":
            _aws_call("delete lock", dynamodb.delete_item, TableName=str(backend.dynamodb_table),
                      Key={"LockID": {"S": backend.lock_id}})
        else:
            _aws_call("delete lockfile", s3.delete_object, Bucket=backend.bucket,
                      Key=f"{backend.key}.tflock")
    return chosen
    # END SOLUTION


def migrate(tf: Terraform, root: Path, backend: Backend, *, verify: bool = True) -> int | None:
    """Write `backend.tf` into `root`, `init -migrate-state`, then (with `verify`) plan.

    Returns the `plan -detailed-exitcode` status (0: nothing to change, so the state arrived
    whole) or None without `verify`. The old backend.tf comes back when init fails.
    """
    root = Path(root)
    path = root / "backend.tf"
    previous = path.read_text() if path.is_file() else None
    atomic_write_text(path, backend.hcl())
    try:
        tf.init(root, "-migrate-state", "-force-copy")
    except TerraformError as exc:
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_text(path, previous)
        raise UnavailableError(f"migration failed: {str(exc).splitlines()[0]}") from exc
    if not verify:
        return None
    result = tf.run("plan", "-input=false", "-detailed-exitcode", "-lock-timeout=0s", cwd=root,
                    check=False)
    if result.returncode == 1:
        raise UnavailableError(f"plan after migration failed: {result.tail(3)}")
    return result.returncode
