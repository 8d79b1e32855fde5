"""Browsing, inspect (checked against skopeo), copy (mount, chunked, incremental), delete."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
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


class UploadCounter:
    """A pass-through proxy in front of a registry that counts blob-upload requests in
    flight. Until two overlap it holds each one (up to 5 s), so a copy that uploads blobs one
    at a time shows a peak of 1 however fast the machine is."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.in_flight, self.peak = upstream, 0, 0
        self.cond = threading.Condition()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upload = "/blobs/uploads/" in self.path and self.command != "GET"
                if upload:
                    with counter.cond:
                        counter.in_flight += 1
                        counter.peak = max(counter.peak, counter.in_flight)
                        counter.cond.notify_all()
                        counter.cond.wait_for(lambda: counter.peak >= 2, timeout=5)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("content-length", "connection")}
                    answer = httpx.request(self.command, counter.upstream + self.path,
                                           headers=headers, content=body, timeout=60)
                finally:
                    if upload:
                        with counter.cond:
                            counter.in_flight -= 1
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding",
                                           "connection", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.points(3)
def test_copy_uploads_blobs_in_parallel_within_the_bound(
        source: OciRegistry, oci_registry_factory: Callable[[], OciRegistry]) -> None:
    from regman.images import build_image, push_image, random_layer

    target = oci_registry_factory()
    image = build_image([random_layer(48 * 1024, f"parallel-{i}") for i in range(6)])
    with RegistryClient(source.url) as client:
        digest = push_image(client, "parallel/app", "v1", image)
    proxy = UploadCounter(target.url)
    try:
        result = invoke(["copy", f"{source.host}/parallel/app:v1",
                         f"{proxy.host}/parallel/app:v1", "--jobs", "2", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["blobs_uploaded"] == 7  # 6 layers + config
        assert proxy.peak == 2  # uploads overlapped, never more than --jobs at once
    finally:
        proxy.close()
    with RegistryClient(target.url) as client:
        assert client.head_manifest("parallel/app", "v1") == digest
        for blob in client.get_manifest("parallel/app", digest).blobs():
            assert client.get_blob("parallel/app", blob.digest)
