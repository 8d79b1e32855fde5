"""Browsing, inspect (checked against skopeo), copy (mount, chunked, incremental), delete."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from aiinfra_shared.procs.services import OciRegistry

from regman.adapters.registry import RegistryClient
from regman.copying import copy_image
from regman.images import write_oci_layout
from regman.reference import parse_reference

from .conftest import invoke, sample_image, skopeo

pytestmark = pytest.mark.integration


@pytest.mark.points(3)
def test_repos_and_tags_through_cli(source: OciRegistry, seeded: dict[str, str]) -> None:
    result = invoke(["--registry", source.url, "repos", "--json"])
    assert result.exit_code == 0, result.output
    assert {"library/app", "library/multi"} <= set(json.loads(result.output))
    result = invoke(["--registry", source.url, "tags", "library/app", "--json"])
    rows = json.loads(result.output)
    assert [r["tag"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["digest"] == seeded["app:1"]


@pytest.mark.points(3)
def test_inspect_matches_skopeo_for_an_image(source: OciRegistry,
                                             seeded: dict[str, str]) -> None:
    ref = f"{source.host}/library/app:2"
    result = invoke(["inspect", ref, "--json"])
    assert result.exit_code == 0, result.output
    mine = json.loads(result.output)
    theirs = skopeo("inspect", "--tls-verify=false", f"docker://{ref}")
    assert mine["digest"] == theirs["Digest"] == seeded["app:2"]
    assert [layer["digest"] for layer in mine["layers"]] == theirs["Layers"]
    assert mine["labels"] == theirs["Labels"]
    assert mine["architecture"] == theirs["Architecture"]
    assert theirs["Created"].startswith(mine["created"].rstrip("Z"))
    raw = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{ref}")
    config = skopeo("inspect", "--tls-verify=false", "--config", f"docker://{ref}")
    expected = (len(json.dumps(raw, indent=2)) + sum(x["size"] for x in raw["layers"])
                + raw["config"]["size"])
    assert mine["size"] == expected
    assert config["architecture"] == "amd64"


@pytest.mark.points(2)
def test_inspect_index_lists_platforms(source: OciRegistry, seeded: dict[str, str]) -> None:
    ref = f"{source.host}/library/multi:1.0"
    mine = json.loads(invoke(["inspect", ref, "--json"]).output)
    raw = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{ref}")
    assert mine["kind"] == "index"
    assert mine["digest"] == seeded["multi:1.0"]
    assert [(p["os"], p["architecture"], p["digest"]) for p in mine["platforms"]] == [
        (m["platform"]["os"], m["platform"]["architecture"], m["digest"])
        for m in raw["manifests"]]


@pytest.mark.points(2)
def test_skopeo_pushed_image_is_read_by_regman(source: OciRegistry, tmp_path: Path) -> None:
    image = sample_image(42, labels={"pushed-by": "skopeo"})
    write_oci_layout(tmp_path / "layout", {"v42": image})
    skopeo("copy", "--dest-tls-verify=false", "--preserve-digests",
           f"oci:{tmp_path / 'layout'}:v42", f"docker://{source.host}/interop/skopeo:v42")
    info = json.loads(invoke(["inspect", f"{source.host}/interop/skopeo:v42",
                              "--json"]).output)
    assert info["digest"] == image.digest
    assert info["labels"] == {"pushed-by": "skopeo"}


@pytest.mark.points(4)
def test_copy_within_registry_mounts_blobs(source: OciRegistry, seeded: dict[str, str],
                                           client_of: Callable[..., RegistryClient]) -> None:
    client = client_of(source)
    result = copy_image(client, parse_reference(f"{source.host}/library/app:1"), client,
                        parse_reference(f"{source.host}/mounted/app:1"))
    assert result.blobs_mounted == 3  # config + 2 layers, no bytes moved
    assert result.blobs_uploaded == 0
    assert client.head_manifest("mounted/app", "1") == seeded["app:1"]


@pytest.mark.points(5)
def test_copy_across_registries_chunked_then_incremental(
        source: OciRegistry, target: OciRegistry, seeded: dict[str, str],
        client_of: Callable[..., RegistryClient]) -> None:
    src, dst = client_of(source), client_of(target, chunk_size=16 * 1024)
    ref = parse_reference(f"{source.host}/library/multi:1.0")
    first = copy_image(src, ref, dst, parse_reference(f"{target.host}/copied/multi:1.0"))
    assert first.blobs_uploaded >= 4 and first.bytes_uploaded > 64 * 1024
    assert dst.stats.bytes_uploaded == first.bytes_uploaded
    theirs = skopeo("inspect", "--tls-verify=false", "--raw",
                    f"docker://{target.host}/copied/multi:1.0")
    assert [m["digest"] for m in theirs["manifests"]] == [
        m["digest"] for m in json.loads(src.get_manifest("library/multi", "1.0").raw)[
            "manifests"]]
    assert dst.head_manifest("copied/multi", "1.0") == seeded["multi:1.0"]
    again = copy_image(src, ref, dst, parse_reference(f"{target.host}/copied/multi:1.0"))
    assert again.up_to_date and again.bytes_uploaded == 0


@pytest.mark.points(2)
@pytest.mark.hidden
def test_copy_and_delete_through_console_script(source: OciRegistry, target: OciRegistry,
                                                seeded: dict[str, str]) -> None:
    exe = Path(sys.executable).parent / "regman"
    run = subprocess.run([str(exe), "copy", f"{source.host}/library/app:3",
                          f"{target.host}/scripted/app", "--json"],
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["digest"] == seeded["app:3"]
    run = subprocess.run([str(exe), "delete", f"{target.host}/scripted/app:3", "--yes"],
                         capture_output=True, text=True, check=False, timeout=60)
    assert run.returncode == 0, run.stderr
    missing = subprocess.run([str(exe), "inspect", f"{target.host}/scripted/app:3"],
                             capture_output=True, text=True, check=False, timeout=60)
    assert missing.returncode == 4
    assert missing.stderr.count("\n") == 1 and "not found" in missing.stderr
