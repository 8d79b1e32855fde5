"""Releases through the semver gate, the registry over HTTPS for a real `terraform init`, and
remote state with DynamoDB locks and S3 lockfiles on the shared moto server.

One scenario, built once per module (fixtures) and checked by the tests below:
release aws/object-store 1.0.0, 1.1.0 (new optional input), 1.2.0 (new output); a removed
output offered as a minor is refused; a dirty tree is refused; 2.0.0. A consumer asking for
`~> 1.1` gets 1.2.0 while 2.0.0 exists, applies on moto, migrates its state to S3, and meets a
planted lock of each kind.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs.services import MotoServer
from aiinfra_shared.procs.terraform import Terraform

from tests.conftest import MODULES, invoke
from tfml.consumer import installed_version, write_object_store_consumer
from tfml.demo import init_repo
from tfml.registry import RegistryServer, start_background
from tfml.state import Backend, migrate
from tfml.tls import TlsFiles, ensure_tls

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HOST = "registry.tfml.test"
BUCKET, TABLE, KEY = "tfml-it-state", "tfml-it-locks", "consumer/terraform.tfstate"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True).stdout


def _commit(repo: Path, message: str) -> None:
    _git(repo, "commit", "-q", "-am", message)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("release")
    repo = base / "repo"
    repo.mkdir()
    modules = init_repo(repo, MODULES)
    module = modules / "aws" / "object-store"
    env = {"TFML_DIST_DIR": str(base / "dist"), "TFML_NAMESPACE": "tfml"}

    def release(*args: str) -> Any:
        return invoke("--modules-dir", str(modules), "release", "aws/object-store", *args,
                      "--date", "2026-12-01", env=env)

    record: dict[str, Any] = {"repo": repo, "module": module, "dist": base / "dist"}
    record["r1"] = release()
    variables = module / "variables.tf"
    variables.write_text(variables.read_text() + '''
variable "object_lock_days" {
  type        = number
  description = "Default object lock retention (null: no object lock)."
  default     = null
}
''')
    _commit(repo, "feat: object_lock_days input")
    record["r2"] = release()
    outputs = module / "outputs.tf"
    outputs.write_text(outputs.read_text() + '''
output "regional_domain_name" {
  description = "Regional domain name of the bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}
''')
    _commit(repo, "feat: regional_domain_name output")
    record["r3"] = release()
    text = outputs.read_text()
    outputs.write_text(text[: text.index('output "kms_key_arn"')]
                       + text[text.index('output "regional_domain_name"'):])
    _commit(repo, "refactor!: drop the kms_key_arn output")
    changelog_before = (module / "CHANGELOG.md").read_text()
    record["too_small"] = release("--bump", "minor")
    record["changelog_unchanged"] = (module / "CHANGELOG.md").read_text() == changelog_before
    (module / "main.tf").write_text((module / "main.tf").read_text() + "\n# wip\n")
    record["dirty"] = release()
    _git(repo, "checkout", "--", str(module / "main.tf"))
    record["r4"] = release()
    record["tags"] = _git(repo, "tag", "--list").split()
    return record


@pytest.fixture(scope="module")
def registry(releases: dict[str, Any],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RegistryServer, TlsFiles]]:
    tls = ensure_tls(tmp_path_factory.mktemp("tls"), HOST)
    server = start_background(releases["dist"], tls)
    yield server, tls
    server.stop()


@pytest.fixture(scope="module")
def consumer(registry: tuple[RegistryServer, TlsFiles], moto_server: MotoServer,
             terraform_factory: Callable[..., Terraform], tf: Terraform,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """init from the registry, apply on moto with local state, migrate to S3."""
    server, tls = registry
    cache = tf.config_file.read_text().split("plugin_cache_dir = ", 1)[1].splitlines()[0]
    ctf = terraform_factory(hosts={HOST: {"modules.v1": server.modules_url}},
                            extra_config=f"plugin_cache_dir = {cache}")
    ctf = ctf.with_env(SSL_CERT_FILE=str(tls.ca_cert)).with_moto(moto_server.endpoint_url,
                                                                   moto_server.region)
    root = write_object_store_consumer(tmp_path_factory.mktemp("consumer") / "root", host=HOST,
                                       namespace="tfml", constraint="~> 1.1",
                                       bucket="tfml-it-consumer",
                                       kms_key_arn=moto_server.client("kms").create_key(
                                           Description="platform key")["KeyMetadata"]["Arn"])
    ctf.init(root)
    record: dict[str, Any] = {"tf": ctf, "root": root, "version": installed_version(root)}
    ctf.apply(root)
    env = {**moto_server.env, "AWS_REGION": moto_server.region}
    record["bootstrap"] = invoke("state", "bootstrap", "--bucket", BUCKET, "--table", TABLE,
                                 env=env)
    backend = Backend(BUCKET, KEY, moto_server.region, dynamodb_table=TABLE, use_lockfile=True)
    record["migrate_exit"] = migrate(ctf, root, backend)
    record["env"] = env
    return record


def _state_cli(env: dict[str, str], *args: str) -> Any:
    return invoke("state", *args, "--bucket", BUCKET, "--key", KEY, "--table", TABLE, env=env)


def _plan(consumer: dict[str, Any]) -> Any:
    return consumer["tf"].run("plan", "-input=false", "-lock-timeout=0s",
                              "-detailed-exitcode", cwd=consumer["root"], check=False)


# --------------------------------------------------------------------------- releases


@pytest.mark.points(3)
def test_releases_follow_the_interface(releases: dict[str, Any]) -> None:
    outputs = [releases[k].output for k in ("r1", "r2", "r3", "r4")]
    assert all(releases[k].exit_code == 0 for k in ("r1", "r2", "r3", "r4")), outputs
    assert "none -> 1.0.0" in outputs[0]
    assert "1.0.0 -> 1.1.0 (interface needs minor)" in outputs[1]
    assert "1.1.0 -> 1.2.0 (interface needs minor)" in outputs[2]
    assert "1.2.0 -> 2.0.0 (interface needs major)" in outputs[3]
    assert sorted(t for t in releases["tags"] if t.startswith("aws/object-store/")) == [
        "aws/object-store/v1.0.0", "aws/object-store/v1.1.0", "aws/object-store/v1.2.0",
        "aws/object-store/v2.0.0"]


@pytest.mark.points(4)
def test_too_small_a_bump_is_refused_with_reasons(releases: dict[str, Any]) -> None:
    result = releases["too_small"]
    assert result.exit_code == 6
    assert "interface changes need a major" in result.output
    assert "output 'kms_key_arn' removed" in result.output
    assert "aws/object-store/v1.3.0" not in releases["tags"]
    assert not (releases["dist"] / "tfml/object-store/aws/1.3.0.tar.gz").exists()
    assert releases["changelog_unchanged"]


@pytest.mark.hidden
@pytest.mark.points(2)
def test_a_dirty_tree_is_refused(releases: dict[str, Any]) -> None:
    result = releases["dirty"]
    assert result.exit_code == 6
    assert "uncommitted changes" in result.output
    assert result.output.strip().count("\n") <= 1  # the plan line at most, then one error


@pytest.mark.points(2)
def test_changelog_and_archives(releases: dict[str, Any]) -> None:
    changelog = (releases["module"] / "CHANGELOG.md").read_text()
    newest = changelog.split("## [2.0.0] - 2026-12-01", 1)[1].split("## [1.2.0]", 1)[0]
    assert "### Breaking" in newest and "- output 'kms_key_arn' removed" in newest
    assert "refactor!: drop the kms_key_arn output" in newest
    assert changelog.index("## [2.0.0]") < changelog.index("## [1.1.0]")
    for version in ("1.0.0", "1.1.0", "1.2.0", "2.0.0"):
        archive = releases["dist"] / "tfml" / "object-store" / "aws" / f"{version}.tar.gz"
        assert archive.stat().st_size > 500
    listing = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True,
                             check=True).stdout.split()
    assert "versions.tf" in listing and "variables.tf" in listing


# --------------------------------------------------------------------------- registry


def _get(server: RegistryServer, tls: TlsFiles, path: str) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    try:
        with urllib.request.urlopen(  # noqa: S310 - an https URL we built
                server.url + path, context=context, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.points(3)
def test_registry_protocol(registry: tuple[RegistryServer, TlsFiles]) -> None:
    server, tls = registry
    status, _, body = _get(server, tls, "/.well-known/terraform.json")
    assert status == 200 and json.loads(body) == {"modules.v1": "/v1/modules/"}
    status, _, body = _get(server, tls, "/v1/modules/tfml/object-store/aws/versions")
    versions = [v["version"] for v in json.loads(body)["modules"][0]["versions"]]
    assert versions == ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]
    status, headers, _ = _get(server, tls, "/v1/modules/tfml/object-store/aws/1.2.0/download")
    assert status == 204
    assert headers["X-Terraform-Get"] == "/archives/tfml/object-store/aws/1.2.0.tar.gz"


@pytest.mark.hidden
@pytest.mark.points(2)
def test_registry_missing_version_is_a_json_404(
        registry: tuple[RegistryServer, TlsFiles]) -> None:
    server, tls = registry
    status, headers, body = _get(server, tls, "/v1/modules/tfml/object-store/aws/1.3.0/download")
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"errors": ["module tfml/object-store/aws has no version 1.3.0"]}
    status, _, _ = _get(server, tls, "/v1/modules/tfml/nope/aws/versions")
    assert status == 404


@pytest.mark.points(4)
def test_consumer_init_resolves_the_constraint_over_https(consumer: dict[str, Any],
                                                          moto_server: MotoServer) -> None:
    """`~> 1.1` -> 1.2.0 although 2.0.0 exists; the module it got was applied on moto."""
    assert consumer["version"] == "1.2.0"
    buckets = {b["Name"] for b in moto_server.client("s3").list_buckets()["Buckets"]}
    assert "tfml-it-consumer" in buckets
    outputs = consumer["tf"].output_json(consumer["root"])
    assert outputs["bucket"] == "tfml-it-consumer"


# --------------------------------------------------------------------------- state


@pytest.mark.points(3)
def test_bootstrap_and_migration_keep_the_state(consumer: dict[str, Any],
                                                moto_server: MotoServer) -> None:
    assert consumer["bootstrap"].exit_code == 0, consumer["bootstrap"].output
    s3 = moto_server.client("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert consumer["migrate_exit"] == 0  # plan -detailed-exitcode: nothing to change
    state = json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())
    assert any(r["type"] == "aws_s3_bucket" for r in state["resources"])


@pytest.mark.points(4)
def test_a_planted_dynamodb_lock_blocks_plan_until_unlocked(consumer: dict[str, Any],
                                                            moto_server: MotoServer) -> None:
    info = {"ID": "planted-1", "Operation": "OperationTypeApply", "Who": "ci@runner-7",
            "Version": "1.11.4", "Created": "2026-12-01T10:00:00Z", "Path": f"{BUCKET}/{KEY}"}
    moto_server.client("dynamodb").put_item(TableName=TABLE, Item={
        "LockID": {"S": f"{BUCKET}/{KEY}"}, "Info": {"S": json.dumps(info)}})
    blocked = _plan(consumer)
    assert blocked.returncode == 1
    assert "Error acquiring the state lock" in blocked.stdout + blocked.stderr
    status = _state_cli(consumer["env"], "lock-status", "--json")
    payload = json.loads(status.output)
    assert payload["locked"] and payload["locks"][0]["ID"] == "planted-1"
    assert payload["locks"][0]["kind"] == "dynamodb"
    wrong = _state_cli(consumer["env"], "unlock", "--lock-id", "someone-else")
    assert wrong.exit_code == 6
    assert _state_cli(consumer["env"], "unlock", "--lock-id", "planted-1").exit_code == 0
    assert json.loads(_state_cli(consumer["env"], "lock-status", "--json").output) == {
        "locked": False, "locks": []}


@pytest.mark.hidden
@pytest.mark.points(4)
def test_a_planted_lockfile_blocks_plan_until_unlocked(consumer: dict[str, Any],
                                                       moto_server: MotoServer) -> None:
    info = {"ID": "planted-2", "Operation": "OperationTypePlan", "Who": "dev@laptop"}
    moto_server.client("s3").put_object(Bucket=BUCKET, Key=f"{KEY}.tflock",
                                        Body=json.dumps(info).encode())
    blocked = _plan(consumer)
    assert blocked.returncode == 1
    assert "Error acquiring the state lock" in blocked.stdout + blocked.stderr
    unlocked = _state_cli(consumer["env"], "unlock")
    assert unlocked.exit_code == 0 and "lockfile: ID planted-2" in unlocked.output
    again = _plan(consumer)
    assert again.returncode == 0, again.tail()  # unlocked, state intact: nothing to change
    assert _state_cli(consumer["env"], "unlock").exit_code == 4  # nothing left to unlock
