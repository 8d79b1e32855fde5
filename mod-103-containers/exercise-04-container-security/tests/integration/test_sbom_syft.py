"""SBOMs from three inputs agree, validate against their schemas, and syft agrees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiinfra_shared.procs.images import BuiltImage

from imgsec.adapters.syft import compare, run_syft
from imgsec.catalog.inventory import build_inventory
from imgsec.layers import flatten
from imgsec.sbom import components, cyclonedx_json, spdx_json
from imgsec.sources import load_image

pytestmark = pytest.mark.integration

PLANTED = {("deb", "libssl3", "3.0.11-1~deb12u2"), ("deb", "openssl", "3.0.11-1~deb12u2"),
           ("deb", "tzdata", "2024a-0+deb12u1"), ("deb", "zlib1g", "1:1.2.13.dfsg-1"),
           ("apk", "busybox", "1.36.1-r2"), ("apk", "musl", "1.2.4-r1"),
           ("pypi", "requests", "2.25.0"), ("pypi", "urllib3", "1.26.5"),
           ("npm", "lodash", "4.17.20"), ("npm", "minimist", "1.2.5")}


def sbom_of(spec: str) -> str:
    image = load_image(spec)
    return cyclonedx_json(image, build_inventory(image, flatten(image.layers)))


@pytest.mark.points(4)
@pytest.mark.slow
def test_same_sbom_from_archive_layout_and_registry(planted_image: BuiltImage,
                                                    pushed_ref: str) -> None:
    archive = sbom_of(str(planted_image.docker_archive))
    layout = sbom_of(planted_image.oci_reference)
    registry = sbom_of(pushed_ref)  # skopeo copy to a temp layout
    assert components(archive) == components(layout) == components(registry)
    assert len(components(archive)) == 11  # 10 installed + the shadowed PyYAML
    payload = json.loads(archive)
    assert payload["specVersion"] == "1.6"  # validated strictly inside cyclonedx_json
    shadowed = [c for c in payload["components"] if any(
        p["name"] == "imgsec:shadowed" for p in c.get("properties", []))]
    assert [c["purl"] for c in shadowed] == ["pkg:pypi/pyyaml@5.3.1"]


@pytest.mark.points(2)
def test_spdx_validates(planted_image: BuiltImage) -> None:
    from spdx_tools.spdx.parser.json import json_parser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    image = load_image(str(planted_image.docker_archive))
    text = spdx_json(image, build_inventory(image, flatten(image.layers)))
    path = Path(planted_image.docker_archive).parent / "imgsec.spdx.json"
    path.write_text(text)
    document = json_parser.parse_from_file(str(path))
    assert validate_full_spdx_document(document) == []
    purls = {ref.locator for p in document.packages for ref in p.external_references}
    assert "pkg:npm/lodash@4.17.20" in purls and len(document.packages) == 12


@pytest.mark.points(4)
@pytest.mark.slow
@pytest.mark.hidden
def test_syft_agrees_on_every_planted_package(planted_image: BuiltImage) -> None:
    image = load_image(str(planted_image.docker_archive))
    inventory = build_inventory(image, flatten(image.layers))
    comparison = compare(inventory.packages, run_syft(planted_image.docker_archive_reference))
    assert set(comparison.both) == PLANTED
    assert comparison.only_imgsec == []
    # syft lists the deinstalled dpkg entry (Status: deinstall ok config-files) and binaries
    assert ("deb", "oldtool", "0.9-1") in comparison.only_syft
