"""Retention against a seeded real registry: plan explains, apply deletes, GC frees bytes,
and everything kept (protected, signed, referenced, fresh) still pulls."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiinfra_shared.procs.services import OciRegistry

from regman.adapters.registry import RegistryClient
from regman.images import (
    build_image,
    build_index,
    build_layer,
    push_image,
    push_index,
    random_layer,
)
from regman.reference import Reference
from regman.signing import generate_key_pair, load_private_key, sign_image, signature_tag

from .conftest import invoke, sample_image

pytestmark = pytest.mark.integration
REPO = "ret/app"


def backdate(root: Path, repo: str, digest: str, tags: list[str], days: float) -> None:
    """Make the registry's own push records say this was pushed `days` ago."""
    stamp = time.time() - days * 86400
    base = root / "docker/registry/v2/repositories" / repo / "_manifests"
    paths = [base / "revisions/sha256" / digest.split(":", 1)[1] / "link"]
    paths += [base / "tags" / tag / "current/link" for tag in tags]
    for path in paths:
        assert path.is_file(), path
        os.utime(path, (stamp, stamp))


@pytest.fixture
def seeded_retention(oci_registry_factory: Callable[[], OciRegistry],
                     tmp_path: Path) -> tuple[OciRegistry, dict[str, str]]:
    registry = oci_registry_factory()
    root = registry.root_dir
    old = datetime.now(UTC) - timedelta(days=100)
    d: dict[str, str] = {}
    with RegistryClient(registry.url) as client:
        big = random_layer(300 * 1024, "only-in-v1")
        base = random_layer(64 * 1024, "shared-base")
        for name, days in (("v1", 40), ("v2", 38), ("v3", 35), ("prod-1", 60), ("v4", 5),
                           ("v5", 3)):
            layers = [base, build_layer({"v": name.encode()})] + ([big] if name == "v1" else [])
            d[name] = push_image(client, REPO, name, build_image(layers, created=old))
            backdate(root, REPO, d[name], [name], days)
        d["v6"] = push_image(client, REPO, "v6", sample_image(6, days_old=100))  # fresh push
        d["untagged"] = push_image(client, REPO, None, build_image(
            [base, build_layer({"u": b"1"})], created=old))
        backdate(root, REPO, d["untagged"], [], 20)
        child_a = build_image([base, build_layer({"a": b"amd"})], created=old)
        child_b = build_image([base, build_layer({"a": b"arm"})], architecture="arm64",
                              created=old)
        d["multi"] = push_index(client, REPO, "multi", build_index(
            [(child_a, "linux", "amd64"), (child_b, "linux", "arm64")]))
        d["child_a"], d["child_b"] = child_a.digest, child_b.digest
        for name in ("multi", "child_a", "child_b"):
            backdate(root, REPO, d[name], ["multi"] if name == "multi" else [], 30)
        private, _ = generate_key_pair("pw")
        (tmp_path / "k.key").write_bytes(private)
        sign_image(client, Reference(registry.host, REPO, "v2"),
                   load_private_key(tmp_path / "k.key", "pw"))
        d["sig"] = client.head_manifest(REPO, signature_tag(d["v2"])) or ""
        backdate(root, REPO, d["sig"], [signature_tag(d["v2"])], 38)
    (tmp_path / "retention.yaml").write_text(
        "grace_period_hours: 24\nkeep_signed: true\nrules:\n"
        "  - repositories: 'ret/*'\n    keep_last: 2\n    protect: ['prod-*']\n"
        "    untagged_older_than_days: 7\n")
    return registry, d


@pytest.mark.points(10)
def test_plan_explains_and_apply_frees_space(seeded_retention: tuple[OciRegistry,
                                                                     dict[str, str]],
                                             tmp_path: Path) -> None:
    registry, d = seeded_retention
    env = {"REGMAN_REGISTRY": registry.url, "REGMAN_STORAGE_ROOT": str(registry.root_dir),
           "REGMAN_GC_CONFIG": str(registry.config_path),
           "REGMAN_STATE_DIR": str(tmp_path / "state")}
    policy = str(tmp_path / "retention.yaml")
    result = invoke(["retention", "plan", "--policy", policy, "--json"], env=env)
    assert result.exit_code == 0, result.output
    decided = {x["digest"]: (x["action"], x["rule"]) for x in
               json.loads(result.output)["decisions"]}
    assert decided[d["v1"]] == ("delete", "keep-last")
    assert decided[d["v3"]] == ("delete", "keep-last")
    assert decided[d["v4"]] == ("delete", "keep-last")
    assert decided[d["untagged"]] == ("delete", "untagged-age")
    assert decided[d["multi"]] == ("delete", "keep-last")
    assert decided[d["child_a"]] == ("delete", "child-of-deleted")
    assert decided[d["v2"]] == ("keep", "signed")
    assert decided[d["sig"]] == ("keep", "signature")
    assert decided[d["prod-1"]] == ("keep", "protected")
    assert decided[d["v6"]] == ("keep", "grace-window")  # built 100d ago, pushed just now
    assert decided[d["v5"]] == ("keep", "keep-last")
    table = invoke(["retention", "plan", "--policy", policy], env=env)
    assert "keep_last=2" in table.output and "untagged for" in table.output

    before = registry.disk_usage()
    applied = invoke(["retention", "apply", "--policy", policy, "--json"], env=env)
    assert applied.exit_code == 0, applied.output
    report = json.loads(applied.output)
    assert report["gc_ran"] and report["bytes_freed_measured"]
    assert {x["digest"] for x in report["deleted"]} == {
        d[k] for k in ("v1", "v3", "v4", "untagged", "multi", "child_a", "child_b")}
    after = registry.disk_usage()
    assert before - after >= 300 * 1024  # v1's private layer is gone from disk
    assert report["bytes_freed"] == before - after

    with RegistryClient(registry.url) as client:
        for name in ("v1", "v3", "v4", "untagged", "multi", "child_a"):
            assert client.head_manifest(REPO, d[name]) is None
        for name in ("v2", "sig", "prod-1", "v5", "v6"):  # kept content still pulls whole
            manifest = client.get_manifest(REPO, d[name])
            for blob in manifest.blobs():
                assert client.get_blob(REPO, blob.digest)
        assert sorted(client.tags(REPO)) == sorted(
            ["v2", "prod-1", "v5", "v6", signature_tag(d["v2"])])
    again = invoke(["retention", "plan", "--policy", policy, "--json"], env=env)
    assert json.loads(again.output)["delete_count"] == 0
    state = json.loads((tmp_path / "state" / "retention.json").read_text())
    assert state[registry.host]["deleted_total"] == 7


@pytest.mark.points(1)
@pytest.mark.hidden
def test_apply_without_gc_config_says_how(seeded_retention: tuple[OciRegistry,
                                                                  dict[str, str]],
                                          tmp_path: Path) -> None:
    registry, _ = seeded_retention
    env = {"REGMAN_REGISTRY": registry.url, "REGMAN_STORAGE_ROOT": str(registry.root_dir),
           "REGMAN_STATE_DIR": str(tmp_path / "state")}
    result = invoke(["retention", "apply", "--policy", str(tmp_path / "retention.yaml")],
                    env=env)
    assert result.exit_code == 0, result.output
    assert "run `docker-registry garbage-collect" in result.output


@pytest.mark.points(1)
def test_malformed_policy_is_config_error_with_line(tmp_path: Path,
                                                    source: OciRegistry) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - repositories: 'x/*'\n    keep_last: many\n")
    result = invoke(["--registry", source.url, "retention", "plan", "--policy", str(path)])
    assert result.exit_code == 3
    assert result.output.startswith(f"error: {path}:3: rules.0.keep_last")
