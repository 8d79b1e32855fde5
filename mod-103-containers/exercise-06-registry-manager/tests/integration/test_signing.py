"""Sign and verify against a real registry: keys, tamper, wrong key, policy, cosign interop."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from aiinfra_shared.procs.services import OciRegistry

from regman.adapters.registry import RegistryClient
from regman.oci import OCI_MANIFEST, sha256_digest
from regman.signing import signature_tag

from .conftest import invoke, sample_image

pytestmark = pytest.mark.integration
PASSWORD = {"REGMAN_KEY_PASSWORD": "pw-for-tests"}


@pytest.fixture
def signed_repo(source: OciRegistry, tmp_cwd: Path) -> tuple[str, str]:
    """A fresh image in signing/app:<test dir> signed with ./cosign.key; (ref, digest)."""
    from regman.images import push_image

    tag = tmp_cwd.name[-40:].replace("_", "-").lower().lstrip("-.")
    with RegistryClient(source.url) as client:
        digest = push_image(client, "signing/app", tag, sample_image(7, labels={"t": tag}))
    assert invoke(["key", "generate"], env=PASSWORD).exit_code == 0
    ref = f"{source.host}/signing/app:{tag}"
    result = invoke(["sign", ref, "--key", "cosign.key", "--json"], env=PASSWORD)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["signature_tag"] == signature_tag(digest)
    return ref, digest


@pytest.mark.points(5)
def test_sign_stores_cosign_layout_and_verifies(source: OciRegistry,
                                                signed_repo: tuple[str, str]) -> None:
    ref, digest = signed_repo
    with RegistryClient(source.url) as client:
        manifest = client.get_manifest("signing/app", signature_tag(digest))
        layer = manifest.layers[0]
        payload = json.loads(client.get_blob("signing/app", layer.digest))
    assert layer.media_type == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert "dev.cosignproject.cosign/signature" in layer.annotations
    assert payload["critical"]["image"]["docker-manifest-digest"] == digest
    assert payload["critical"]["type"] == "cosign container image signature"
    result = invoke(["verify", ref, "--key", "cosign.pub", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["digest"] == digest


@pytest.mark.points(2)
def test_wrong_key_fails(signed_repo: tuple[str, str], tmp_cwd: Path) -> None:
    ref, _ = signed_repo
    assert invoke(["key", "generate", "--output-prefix", "other"], env=PASSWORD).exit_code == 0
    result = invoke(["verify", ref, "--key", "other.pub"])
    assert result.exit_code == 1
    assert "no valid signature for key other.pub" in result.output


@pytest.mark.points(3)
@pytest.mark.hidden
def test_tampered_payload_fails(source: OciRegistry, signed_repo: tuple[str, str]) -> None:
    ref, digest = signed_repo
    with RegistryClient(source.url) as client:
        manifest = client.get_manifest("signing/app", signature_tag(digest))
        body = json.loads(manifest.raw)
        original = client.get_blob("signing/app", body["layers"][0]["digest"])
        forged = original.replace(b"signing/app", b"signing/evil")
        client.upload_blob("signing/app", sha256_digest(forged), forged)
        body["layers"][0].update(digest=sha256_digest(forged), size=len(forged))
        client.put_manifest("signing/app", signature_tag(digest),
                            json.dumps(body).encode(), OCI_MANIFEST)
    result = invoke(["verify", ref, "--key", "cosign.pub"])
    assert result.exit_code == 1
    assert "no valid signature" in result.output


@pytest.mark.points(3)
def test_policy_requires_every_listed_key(signed_repo: tuple[str, str],
                                          tmp_cwd: Path) -> None:
    ref, _ = signed_repo
    assert invoke(["key", "generate", "--output-prefix", "second"],
                  env=PASSWORD).exit_code == 0
    Path("policy.yaml").write_text(
        "rules:\n  - repositories: 'signing/*'\n    keys: [cosign.pub, second.pub]\n")
    assert invoke(["verify", ref, "--policy", "policy.yaml"]).exit_code == 1
    assert invoke(["sign", ref, "--key", "second.key"], env=PASSWORD).exit_code == 0
    result = invoke(["verify", ref, "--policy", "policy.yaml", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["verified_keys"] == ["cosign.pub", "second.pub"]


@pytest.mark.points(1)
def test_wrong_key_password_is_one_line_config_error(signed_repo: tuple[str, str]) -> None:
    ref, _ = signed_repo
    result = invoke(["sign", ref, "--key", "cosign.key"],
                    env={"REGMAN_KEY_PASSWORD": "not-it"})
    assert result.exit_code == 3
    assert result.output.strip() == "error: cosign.key: wrong password for the private key"


@pytest.mark.external(reason="cosign interop", requires=["cosign"])
@pytest.mark.points(1)
def test_cosign_interop_both_ways(source: OciRegistry, signed_repo: tuple[str, str],
                                  tmp_cwd: Path) -> None:
    ref, digest = signed_repo
    cosign = shutil.which("cosign") or "cosign"
    env = {**os.environ, "COSIGN_PASSWORD": "pw-for-tests"}
    flags = ["--allow-insecure-registry", "--insecure-ignore-tlog=true"]
    ours = subprocess.run([cosign, "verify", *flags, "--key", "cosign.pub",
                           f"{ref.rsplit(':', 1)[0]}@{digest}"],
                          capture_output=True, text=True, env=env, check=False)
    assert ours.returncode == 0, ours.stderr
    subprocess.run([cosign, "generate-key-pair", "--output-key-prefix", "cos"], env=env,
                   check=True, capture_output=True)
    theirs = subprocess.run([cosign, "sign", "--yes", "--tlog-upload=false",
                             "--allow-insecure-registry", "--key", "cos.key",
                             f"{ref.rsplit(':', 1)[0]}@{digest}"],
                            capture_output=True, text=True, env=env, check=False)
    assert theirs.returncode == 0, theirs.stderr
    assert invoke(["verify", ref, "--key", "cos.pub"]).exit_code == 0
    assert invoke(["sign", ref, "--key", "cos.key"],
                  env={"REGMAN_KEY_PASSWORD": "pw-for-tests"}).exit_code == 0


@pytest.mark.points(3)
def test_policy_keys_are_identified_by_fingerprint_not_file_name(
        signed_repo: tuple[str, str], tmp_cwd: Path) -> None:
    ref, _ = signed_repo
    for team in ("release", "security"):
        Path(team).mkdir()
        assert invoke(["key", "generate", "--output-prefix", f"{team}/cosign"],
                      env=PASSWORD).exit_code == 0
    Path("policy.yaml").write_text(
        "rules:\n  - repositories: 'signing/*'\n"
        "    keys: [release/cosign.pub, security/cosign.pub]\n")
    assert invoke(["sign", ref, "--key", "security/cosign.key"], env=PASSWORD).exit_code == 0
    only_one = invoke(["verify", ref, "--policy", "policy.yaml"])
    assert only_one.exit_code == 1, only_one.output  # 2-of-2 stays 2-of-2
    assert "no valid signature for key release/cosign.pub" in only_one.output
    assert invoke(["sign", ref, "--key", "release/cosign.key"], env=PASSWORD).exit_code == 0
    both = invoke(["verify", ref, "--policy", "policy.yaml", "--json"])
    assert both.exit_code == 0, both.output
    report = json.loads(both.output)
    assert report["verified_keys"] == ["release/cosign.pub", "security/cosign.pub"]
    fingerprints = report["fingerprints"]
    assert len(set(fingerprints.values())) == 2
    assert all(f.startswith("sha256:") for f in fingerprints.values())


@pytest.mark.points(1)
@pytest.mark.hidden
def test_policy_listing_one_key_twice_is_a_config_error(signed_repo: tuple[str, str],
                                                        tmp_cwd: Path) -> None:
    ref, _ = signed_repo
    shutil.copy("cosign.pub", "copy.pub")
    Path("policy.yaml").write_text(
        "rules:\n  - repositories: 'signing/*'\n    keys: [cosign.pub, copy.pub]\n")
    result = invoke(["verify", ref, "--policy", "policy.yaml"])
    assert result.exit_code == 3, result.output
    assert "copy.pub is the same key as cosign.pub" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.points(2)
def test_repository_no_rule_covers_is_denied_unless_default_allow(
        signed_repo: tuple[str, str], tmp_cwd: Path) -> None:
    ref, _ = signed_repo
    rules = "rules:\n  - repositories: 'other/*'\n    keys: [cosign.pub]\n"
    Path("policy.yaml").write_text(rules)
    denied = invoke(["verify", ref, "--policy", "policy.yaml"])
    assert denied.exit_code == 1, denied.output
    assert "no policy rule covers signing/app (default: deny)" in denied.output
    Path("policy.yaml").write_text("default: allow\n" + rules)
    allowed = invoke(["verify", ref, "--policy", "policy.yaml", "--json"])
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.output)["verified_keys"] == []
    Path("policy.yaml").write_text("default: maybe\n" + rules)
    bad = invoke(["verify", ref, "--policy", "policy.yaml"])
    assert bad.exit_code == 3 and "'default' must be 'deny' or 'allow'" in bad.output
