"""Retention against a seeded real registry: plan explains, apply deletes, GC frees bytes,
and everything kept (protected, signed, referenced, fresh) still pulls."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.procs.ports import free_port as free_port_now
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
        private, public = generate_key_pair("pw")
        (tmp_path / "k.key").write_bytes(private)
        (tmp_path / "k.pub").write_bytes(public)
        sign_image(client, Reference(registry.host, REPO, "v2"),
                   load_private_key(tmp_path / "k.key", "pw"))
        d["sig"] = client.head_manifest(REPO, signature_tag(d["v2"])) or ""
        backdate(root, REPO, d["sig"], [signature_tag(d["v2"])], 38)
    (tmp_path / "signing-policy.yaml").write_text(
        "rules:\n  - repositories: 'ret/*'\n    keys: [k.pub]\n")
    (tmp_path / "retention.yaml").write_text(
        "grace_period_hours: 24\nkeep_signed: true\nsigning_policy: signing-policy.yaml\n"
        "rules:\n"
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

    saved = invoke(["retention", "plan", "--policy", policy, "--out",
                    str(tmp_path / "plan.json")], env=env)
    assert saved.exit_code == 0, saved.output
    before = registry.disk_usage()
    applied = invoke(["retention", "apply", str(tmp_path / "plan.json"),
                      "--i-have-stopped-writes", "--json"], env=env)
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
    plan_path = str(tmp_path / "plan.json")
    assert invoke(["retention", "plan", "--policy", str(tmp_path / "retention.yaml"),
                   "--out", plan_path], env=env).exit_code == 0
    result = invoke(["retention", "apply", plan_path], env=env)
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


@pytest.mark.points(3)
def test_keep_signed_counts_only_signatures_the_policy_keys_verify(
        seeded_retention: tuple[OciRegistry, dict[str, str]], tmp_path: Path) -> None:
    registry, d = seeded_retention
    with RegistryClient(registry.url) as client:  # anyone can push a sha256-<hex>.sig tag
        forger, _ = generate_key_pair("pw")
        (tmp_path / "forger.key").write_bytes(forger)
        sign_image(client, Reference(registry.host, REPO, "v3"),
                   load_private_key(tmp_path / "forger.key", "pw"))
        forged = client.head_manifest(REPO, signature_tag(d["v3"]))
    env = {"REGMAN_REGISTRY": registry.url, "REGMAN_STORAGE_ROOT": str(registry.root_dir),
           "REGMAN_STATE_DIR": str(tmp_path / "state")}
    result = invoke(["retention", "plan", "--policy", str(tmp_path / "retention.yaml"),
                     "--json"], env=env)
    assert result.exit_code == 0, result.output
    decided = {x["digest"]: (x["action"], x["rule"]) for x in
               json.loads(result.output)["decisions"]}
    assert decided[d["v2"]] == ("keep", "signed")  # signed with the policy's key
    assert decided[d["v3"]] == ("delete", "keep-last")  # forged .sig: not signed
    assert decided[forged] == ("delete", "orphan-signature")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_keep_signed_without_signing_policy_is_config_error(tmp_path: Path,
                                                            source: OciRegistry) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text("keep_signed: true\nrules:\n  - repositories: 'x/*'\n    keep_last: 1\n")
    result = invoke(["--registry", source.url, "retention", "plan", "--policy", str(path)])
    assert result.exit_code == 3, result.output
    assert "keep_signed needs signing_policy" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.points(4)
def test_apply_runs_only_the_saved_plan_and_keeps_what_skipped_items_need(
        seeded_retention: tuple[OciRegistry, dict[str, str]], tmp_path: Path) -> None:
    registry, d = seeded_retention
    env = {"REGMAN_REGISTRY": registry.url, "REGMAN_STORAGE_ROOT": str(registry.root_dir),
           "REGMAN_STATE_DIR": str(tmp_path / "state")}
    policy = tmp_path / "unsigned.yaml"  # keep_signed off: v2 and its signature are planned
    policy.write_text("grace_period_hours: 24\nkeep_signed: false\nrules:\n"
                      "  - repositories: 'ret/*'\n    keep_last: 2\n")
    plan_path = tmp_path / "plan.json"
    saved = invoke(["retention", "plan", "--policy", str(policy), "--out", str(plan_path),
                    "--json"], env=env)
    assert saved.exit_code == 0, saved.output
    planned = {x["digest"]: x["rule"] for x in json.loads(saved.output)["decisions"]
               if x["action"] == "delete"}
    assert {d["v2"], d["sig"], d["multi"], d["child_a"], d["v1"]} <= set(planned)
    with RegistryClient(registry.url) as client:  # after planning: two re-tags, a new push
        for name, tag in (("v2", "hotfix"), ("multi", "multi-pinned")):
            manifest = client.get_manifest(REPO, d[name])
            client.put_manifest(REPO, tag, manifest.raw, manifest.media_type)
        newer = push_image(client, REPO, "v7", sample_image(7, days_old=90))
    backdate(registry.root_dir, REPO, newer, ["v7"], 90)  # would be deleted by a re-plan

    applied = invoke(["retention", "apply", str(plan_path), "--json"], env=env)
    assert applied.exit_code == 0, applied.output
    report = json.loads(applied.output)
    deleted = {x["digest"] for x in report["deleted"]}
    assert d["v1"] in deleted
    assert deleted.isdisjoint({d["v2"], d["sig"], d["multi"], d["child_a"], d["child_b"],
                               newer})
    skipped = "\n".join(report["skipped"])
    assert "gained tag(s) hotfix" in skipped and "gained tag(s) multi-pinned" in skipped
    assert f"{d['sig']}: signature of skipped" in skipped
    assert f"{d['child_a']}: child of skipped" in skipped
    with RegistryClient(registry.url) as client:
        for name in ("v2", "sig", "multi", "child_a", "child_b"):
            assert client.head_manifest(REPO, d[name]) == d[name], name
        assert client.head_manifest(REPO, newer) == newer
        assert client.head_manifest(REPO, d["v1"]) is None


@pytest.mark.points(2)
def test_apply_refuses_gc_on_a_writable_registry(
        seeded_retention: tuple[OciRegistry, dict[str, str]], tmp_path: Path) -> None:
    registry, d = seeded_retention
    env = {"REGMAN_REGISTRY": registry.url, "REGMAN_STORAGE_ROOT": str(registry.root_dir),
           "REGMAN_GC_CONFIG": str(registry.config_path),
           "REGMAN_STATE_DIR": str(tmp_path / "state")}
    plan_path = tmp_path / "plan.json"
    assert invoke(["retention", "plan", "--policy", str(tmp_path / "retention.yaml"),
                   "--out", str(plan_path)], env=env).exit_code == 0
    refused = invoke(["retention", "apply", str(plan_path)], env=env)
    assert refused.exit_code == 6, refused.output
    assert "--i-have-stopped-writes" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    with RegistryClient(registry.url) as client:  # refused before deleting anything
        assert client.head_manifest(REPO, d["v1"]) == d["v1"]
    assert not (tmp_path / "state" / "retention.json").exists()


@pytest.mark.points(1)
@pytest.mark.hidden
def test_apply_rejects_a_file_that_is_not_a_saved_plan(tmp_path: Path,
                                                       source: OciRegistry) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"decisions": "nope"}')
    result = invoke(["--registry", source.url, "retention", "apply", str(path)])
    assert result.exit_code == 3, result.output
    assert result.output.startswith(f"error: {path}: not a saved regman retention plan")


def age_first_seen(state_dir: Path, days: float) -> None:
    """Make regman's own first-seen records say everything was first seen `days` ago."""
    path = state_dir / "first_seen.json"
    data = json.loads(path.read_text())
    for repositories in data.values():
        for digests in repositories.values():
            for digest in digests:
                digests[digest] -= days * 86400
    path.write_text(json.dumps(data))


@pytest.mark.points(3)
def test_first_seen_grace_protects_a_freshly_replicated_old_build(
        oci_registry_factory: Callable[[], OciRegistry], tmp_path: Path) -> None:
    registry = oci_registry_factory()  # no REGMAN_STORAGE_ROOT: push times are unknown
    with RegistryClient(registry.url) as client:
        old = {f"v{i}": push_image(client, "first/app", f"v{i}",
                                   sample_image(900 + i, days_old=100 - i)) for i in (1, 2, 3)}
    (tmp_path / "r.yaml").write_text("grace_period_hours: 24\nkeep_signed: false\nrules:\n"
                                     "  - repositories: 'first/*'\n    keep_last: 1\n")
    env = {"REGMAN_REGISTRY": registry.url, "REGMAN_STATE_DIR": str(tmp_path / "state")}
    args = ["retention", "plan", "--policy", str(tmp_path / "r.yaml"), "--json"]

    def decided() -> dict[str, tuple[str, str]]:
        result = invoke(args, env=env)
        assert result.exit_code == 0, result.output
        return {x["digest"]: (x["action"], x["rule"])
                for x in json.loads(result.output)["decisions"]}

    first = decided()  # regman has never seen these: nothing is old enough to delete
    assert {first[d] for d in old.values()} == {("keep", "grace-window")}
    age_first_seen(tmp_path / "state", 2)
    with RegistryClient(registry.url) as client:  # a 200-day-old build replicated in now
        replicated = push_image(client, "first/app", "v0", sample_image(999, days_old=200))
    later = decided()
    assert later[replicated] == ("keep", "grace-window")
    assert later[old["v1"]] == later[old["v2"]] == ("delete", "keep-last")
    assert later[old["v3"]] == ("keep", "keep-last")


@pytest.mark.points(2)
def test_push_notifications_record_first_seen(service_process: Callable[..., Any],
                                              free_port: int, tmp_path: Path,
                                              wait_for: Callable[..., Any]) -> None:
    state = tmp_path / "state"
    exe = Path(sys.executable).parent / "regman"
    registry_port = free_port_now()
    registry_host = f"127.0.0.1:{registry_port}"
    service_process(
        "regman-notifications",
        [str(exe), "--registry", f"http://{registry_host}", "notifications", "serve",
         "--port", str(free_port)],
        env={"REGMAN_STATE_DIR": str(state), "REGMAN_NOTIFICATIONS_TOKEN": "test-token"},
        ready_http=f"http://127.0.0.1:{free_port}/healthz")
    events = f"http://127.0.0.1:{free_port}/events"
    config = {"version": 0.1, "log": {"level": "warn", "accesslog": {"disabled": True}},
              "storage": {"filesystem": {"rootdirectory": str(tmp_path / "storage")}},
              "http": {"addr": registry_host, "secret": "test"},
              "notifications": {"endpoints": [{
                  "name": "regman", "url": events, "timeout": "2s", "threshold": 3,
                  "backoff": "1s", "headers": {"Authorization": ["Bearer test-token"]}}]}}
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    binary = require_binary("docker-registry", "apt-get install docker-registry")
    service_process("registry-notify", [binary, "serve", str(tmp_path / "config.yml")],
                    ready_http=f"http://{registry_host}/v2/")
    with RegistryClient(f"http://{registry_host}") as client:
        digest = push_image(client, "notify/app", "v1", sample_image(77, days_old=300))

    def recorded() -> bool:
        path = state / "first_seen.json"
        return path.is_file() and digest in json.loads(path.read_text()).get(
            registry_host, {}).get("notify/app", {})

    assert wait_for(recorded, timeout=60)  # before regman ever scanned the registry
    forged = httpx.post(events, json={"events": []}, timeout=10)
    assert forged.status_code == 401  # only the registry (it holds the token) may report
