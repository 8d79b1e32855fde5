"""Replication between two real registries: digests match, signatures travel, the second run
moves 0 bytes, dry-run writes nothing, status reports lag, failures leave no dangling tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiinfra_shared.procs.services import OciRegistry

from regman.adapters.registry import RegistryClient
from regman.images import build_image, build_layer, push_image, random_layer
from regman.reference import Reference
from regman.signing import generate_key_pair, load_private_key, sign_image

from .conftest import invoke, sample_image, skopeo

pytestmark = pytest.mark.integration


def rules_file(path: Path, source: OciRegistry, target: OciRegistry, repos: str) -> Path:
    path.write_text(
        f"registries:\n  primary: {{url: '{source.url}'}}\n  mirror: {{url: '{target.url}'}}\n"
        f"rules:\n  - name: r-{repos.split('/')[0]}\n    source: primary\n"
        f"    destination: mirror\n    repositories: '{repos}'\n    tags: 'v.*'\n"
        "    destination_prefix: 'mirror/'\n    interval_seconds: 1\n")
    return path


@pytest.mark.points(8)
def test_replicate_incremental_with_signatures(source: OciRegistry, target: OciRegistry,
                                               tmp_path: Path) -> None:
    env = {"REGMAN_STATE_DIR": str(tmp_path / "state")}
    with RegistryClient(source.url) as src:
        digests = {f"v{i}": push_image(src, "repl/app", f"v{i}", sample_image(100 + i))
                   for i in (1, 2)}
        push_image(src, "repl/app", "skip-me", sample_image(199))  # filtered out by 'v.*'
        private, public = generate_key_pair("pw")
        (tmp_path / "k.key").write_bytes(private)
        (tmp_path / "k.pub").write_bytes(public)
        sign_image(src, Reference(source.host, "repl/app", "v1"),
                   load_private_key(tmp_path / "k.key", "pw"))
    config = str(rules_file(tmp_path / "replication.yaml", source, target, "repl/*"))

    dry = invoke(["replicate", "run", "--config", config, "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)[0]["copied"] == 2
    with RegistryClient(target.url) as dst:
        assert dst.head_manifest("mirror/repl/app", "v1") is None  # dry run wrote nothing

    first = invoke(["replicate", "run", "--config", config, "--json"], env=env)
    assert first.exit_code == 0, first.output
    run = json.loads(first.output)[0]
    assert (run["copied"], run["signatures_copied"], run["failures"]) == (2, 1, [])
    assert run["bytes_uploaded"] > 64 * 1024
    with RegistryClient(target.url) as dst:
        for tag, digest in digests.items():
            assert dst.head_manifest("mirror/repl/app", tag) == digest
        assert dst.head_manifest("mirror/repl/app", "skip-me") is None
    theirs = skopeo("inspect", "--tls-verify=false", f"docker://{target.host}/mirror/repl/app:v2")
    assert theirs["Digest"] == digests["v2"]
    verified = invoke(["verify", f"{target.host}/mirror/repl/app:v1", "--key",
                       str(tmp_path / "k.pub")])
    assert verified.exit_code == 0, verified.output

    second = invoke(["replicate", "run", "--config", config, "--json"], env=env)
    again = json.loads(second.output)[0]
    assert (again["copied"], again["up_to_date"], again["bytes_uploaded"]) == (0, 2, 0)

    status = json.loads(invoke(["replicate", "status", "--config", config, "--json"],
                               env=env).output)[0]
    assert (status["pending"], status["lag_seconds"], status["failures_total"]) == (0, 0.0, 0)
    with RegistryClient(source.url) as src:
        push_image(src, "repl/app", "v3", sample_image(103))
    status = json.loads(invoke(["replicate", "status", "--config", config, "--json"],
                               env=env).output)[0]
    assert status["pending"] == 1 and status["lag_seconds"] > 0
    table = invoke(["replicate", "status", "--config", config], env=env)
    assert "r-repl" in table.output


@pytest.mark.points(5)
@pytest.mark.hidden
def test_failed_replication_leaves_no_dangling_tag(source: OciRegistry, target: OciRegistry,
                                                   tmp_path: Path) -> None:
    layer = random_layer(32 * 1024, "will-be-corrupted")
    with RegistryClient(source.url) as src:
        good = push_image(src, "replfail/app", "v-good", sample_image(300))
        push_image(src, "replfail/app", "v-bad", build_image([layer, build_layer({"x": b"1"})]))
    hex_digest = layer.descriptor.digest.split(":", 1)[1]
    data_file = source.root_dir / "docker/registry/v2/blobs/sha256" / hex_digest[:2] / \
        hex_digest / "data"
    data = bytearray(data_file.read_bytes())
    data[100] ^= 0xFF  # bit rot in the source registry's storage
    data_file.write_bytes(bytes(data))
    config = str(rules_file(tmp_path / "replication.yaml", source, target, "replfail/*"))
    env = {"REGMAN_STATE_DIR": str(tmp_path / "state")}
    result = invoke(["replicate", "run", "--config", config], env=env)
    assert result.exit_code == 1
    assert "failed to replicate" in result.output and "does not match its digest" in result.output
    with RegistryClient(target.url) as dst:
        assert dst.head_manifest("mirror/replfail/app", "v-bad") is None
        assert dst.head_manifest("mirror/replfail/app", "v-good") == good
    state = json.loads((tmp_path / "state" / "replication.json").read_text())
    assert state["r-replfail"]["failures_total"] == 1
    assert "last_success" not in state["r-replfail"]


@pytest.mark.points(2)
def test_watch_runs_rules_on_schedule(source: OciRegistry, target: OciRegistry,
                                      tmp_path: Path) -> None:
    with RegistryClient(source.url) as src:
        push_image(src, "replwatch/app", "v1", sample_image(400))
    config = str(rules_file(tmp_path / "replication.yaml", source, target, "replwatch/*"))
    result = invoke(["replicate", "run", "--config", config, "--watch", "--max-cycles", "2",
                     "--json"], env={"REGMAN_STATE_DIR": str(tmp_path / "state")})
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)
    assert [r["copied"] for r in runs] == [1, 0]  # second cycle found it in sync
