"""Layer analysis of real buildah images: numbers by hand, equal to dive's, from every input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from aiinfra_shared.procs.images import ImageBuilder
from aiinfra_shared.procs.services import OciRegistry
from click.testing import CliRunner

from imgopt.adapters.archive import read_image
from imgopt.cli import cli
from imgopt.layers import analyse

from .conftest import MIB, WasteImage, require_tool, run_dive

pytestmark = pytest.mark.integration
CACHE = 300 * 1024


@pytest.mark.points(4)
def test_numbers_computed_by_hand(waste_image: WasteImage) -> None:
    bb = waste_image.busybox_bytes
    analysis = analyse(read_image(str(waste_image.image.docker_archive)))
    assert len(analysis.layers) == 7
    assert analysis.dive.size_bytes == bb + 9 * MIB + CACHE
    assert analysis.dive.efficiency == pytest.approx((bb + 2 * MIB + CACHE)
                                                     / (bb + 9 * MIB + CACHE))
    assert analysis.dive.wasted_bytes == 9 * MIB
    assert analysis.dive.user_wasted_percent == pytest.approx(9 * MIB / (9 * MIB + CACHE))
    assert analysis.reclaimable_bytes == 7 * MIB
    assert analysis.cache_bytes == CACHE
    why = {(w.path, w.reason, w.layer, w.by_layer) for w in analysis.waste}
    assert why == {("big.bin", "deleted-later", 2, 3),
                   ("usr/local/bin/tool", "metadata-only", 4, 5),
                   ("root/.cache/pip/wheel.whl", "cache", 6, None)}
    assert analysis.layers[5].created_by == "/bin/sh -c chmod 755 /usr/local/bin/tool"
    assert analysis.layers[3].whiteouts == 1


@pytest.mark.points(5)
def test_dive_compatible_numbers_equal_dive(waste_image: WasteImage) -> None:
    archive = waste_image.image.docker_archive
    ours = analyse(read_image(str(archive)))
    dive = run_dive(archive)
    assert ours.dive.efficiency == pytest.approx(dive.efficiency, abs=1e-12)
    assert ours.dive.wasted_bytes == dive.wasted_bytes
    assert ours.dive.size_bytes == dive.size_bytes
    assert ours.dive.user_wasted_percent == pytest.approx(dive.user_wasted_percent, abs=1e-6)
    assert {p: (c, s) for p, c, s in ours.dive.inefficiencies} == dive.files
    kept = 2 * MIB  # the visible copy of /usr/local/bin/tool, which dive counts as waste
    assert dive.wasted_bytes - ours.reclaimable_bytes == kept


@pytest.mark.points(2)
def test_oci_layout_reads_like_the_archive(waste_image: WasteImage) -> None:
    from_archive = analyse(read_image(str(waste_image.image.docker_archive)))
    from_layout = analyse(read_image(waste_image.image.oci_reference))
    assert from_layout.dive == from_archive.dive
    assert from_layout.waste == from_archive.waste


@pytest.mark.hidden
@pytest.mark.points(3)
def test_oci_layout_through_skopeo_equals_dive(waste_image: WasteImage, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    converted = tmp_path / "converted.tar"
    subprocess.run([skopeo, "--insecure-policy", "copy", waste_image.image.oci_reference,
                    f"docker-archive:{converted}"], check=True, capture_output=True, timeout=120)
    dive = run_dive(converted)
    ours = analyse(read_image(str(waste_image.image.oci_layout)))
    assert (ours.dive.wasted_bytes, ours.dive.size_bytes) == (dive.wasted_bytes, dive.size_bytes)
    assert ours.dive.efficiency == pytest.approx(dive.efficiency, abs=1e-12)


@pytest.mark.points(3)
def test_registry_reference_input(waste_image: WasteImage, oci_image_builder: ImageBuilder,
                                  oci_registry: OciRegistry, tmp_path: Path) -> None:
    require_tool("skopeo")
    ref = oci_image_builder.push(waste_image.image, oci_registry.host, "team/waste", "1.0")
    result = CliRunner().invoke(cli, ["analyze", ref, "--json"],
                                env={"IMGOPT_WORK_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    local = analyse(read_image(str(waste_image.image.docker_archive)))
    assert document["dive"]["wastedBytes"] == local.dive.wasted_bytes
    assert document["reclaimable_bytes"] == local.reclaimable_bytes
    assert document["source"] == ref


@pytest.mark.points(3)
def test_ci_rules_and_reports_from_the_cli(waste_image: WasteImage, tmp_path: Path) -> None:
    archive = str(waste_image.image.docker_archive)
    strict = tmp_path / ".dive-ci"
    strict.write_text("rules:\n  lowestEfficiency: 0.9\n  highestWastedBytes: 20MB\n"
                      "  highestUserWastedPercent: disabled\n  maxLayers: 10\n")
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    result = CliRunner().invoke(cli, ["analyze", archive, "--ci", "--ci-config", str(strict),
                                      "--html", str(html), "--markdown", str(md)])
    assert result.exit_code == 1
    assert "FAIL: lowestEfficiency" in result.output
    assert "PASS: highestWastedBytes" in result.output
    assert "<table id=\"layers\">" in html.read_text()
    assert "/big.bin" in md.read_text()
    loose = tmp_path / "loose.yaml"
    loose.write_text("rules:\n  lowestEfficiency: 0.3\n  highestUserWastedPercent: 1.0\n")
    ok = CliRunner().invoke(cli, ["analyze", archive, "--ci-config", str(loose),
                                  "--max-size", "20MB"])
    assert ok.exit_code == 0, ok.output
    too_small = CliRunner().invoke(cli, ["analyze", archive, "--ci-config", str(loose),
                                         "--max-size", "1MB", "--json"])
    assert too_small.exit_code == 1
