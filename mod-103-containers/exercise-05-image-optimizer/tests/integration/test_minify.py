"""Daemonless minification of a real image: strace in a chroot, rebuilt FROM scratch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from imgopt.adapters.archive import read_image
from imgopt.cli import cli

from .conftest import MIB, WasteImage, require_tool

pytestmark = pytest.mark.integration


@pytest.mark.points(4)
def test_minify_keeps_probes_passing_and_saves_bytes(waste_image: WasteImage,
                                                     tmp_path: Path) -> None:
    for tool in ("strace", "umoci", "buildah"):
        require_tool(tool)
    out = tmp_path / "slim"
    result = CliRunner().invoke(
        cli, ["minify", str(waste_image.image.docker_archive), "--probe", "ls /usr/local/bin",
              "--keep", "/etc", "--output", str(out), "--json"],
        env={"IMGOPT_WORK_DIR": str(tmp_path / "work")})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [p["ok"] for p in report["probes"]] == [True, True]
    assert "fixture ok" in report["probes"][0]["output"]
    assert report["saved_bytes"] >= 7 * MIB + 300 * 1024  # waste + the cache nobody reads
    slim = read_image(str(out / "image.tar"))
    paths = {e.path for layer in slim.layers for e in layer.entries}
    assert {"bin/busybox", "bin/sh", "usr/local/bin/tool", "etc/hosts"} <= paths
    assert "root/.cache/pip/wheel.whl" not in paths
    assert "bin/vi" not in paths  # never touched


@pytest.mark.points(2)
def test_minify_refuses_when_a_probe_fails_on_the_original(waste_image: WasteImage,
                                                           tmp_path: Path) -> None:
    require_tool("strace")
    result = CliRunner().invoke(
        cli, ["minify", str(waste_image.image.docker_archive), "--probe", "test -f /nope"],
        env={"IMGOPT_WORK_DIR": str(tmp_path / "work")})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "fails on the original image" in lines[0] and "minify refuses" in lines[0]


@pytest.mark.hidden
@pytest.mark.points(2)
def test_probe_timeout_is_hard(waste_image: WasteImage, tmp_path: Path) -> None:
    require_tool("strace")
    result = CliRunner().invoke(
        cli, ["minify", str(waste_image.image.docker_archive), "--no-cmd-probe",
              "--probe", "sleep 30"],
        env={"IMGOPT_WORK_DIR": str(tmp_path / "work"), "IMGOPT_PROBE_TIMEOUT": "1"})
    assert result.exit_code == 1
    assert "timed out" in result.output
