import pytest

from imgsec.catalog.catalogers import (
    parse_apk_installed,
    parse_dpkg_status,
    parse_npm_package_json,
    parse_python_metadata,
)
from imgsec.catalog.inventory import build_inventory
from imgsec.catalog.package import Distro
from imgsec.layers import flatten
from tests.unit.helpers import image, layer

DEBIAN = Distro(id="debian", version_id="12")
STATUS = """Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2+b1
Description: SSL
 continuation line

Package: zlib1g
Status: install ok installed
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: gone
Status: deinstall ok config-files
Version: 1.0-1
"""


@pytest.mark.points(3)
def test_dpkg_status_with_source_and_version() -> None:
    packages = {p.name: p for p in parse_dpkg_status(STATUS, DEBIAN)}
    assert sorted(packages) == ["libssl3", "zlib1g"]  # deinstalled packages are not installed
    ssl = packages["libssl3"]
    assert (ssl.source_name, ssl.source_version) == ("openssl", "3.0.11-1~deb12u2")
    assert (ssl.match_name, ssl.match_version) == ("openssl", "3.0.11-1~deb12u2")
    assert ssl.ecosystem == "Debian:12"
    assert ssl.purl == ("pkg:deb/debian/libssl3@3.0.11-1~deb12u2%2Bb1?arch=amd64"
                        "&distro=debian-12&upstream=openssl")
    zlib = packages["zlib1g"]
    assert (zlib.match_name, zlib.match_version) == ("zlib", "1:1.2.13.dfsg-1")


@pytest.mark.points(2)
def test_apk_installed() -> None:
    text = "P:musl\nV:1.2.4-r1\nA:x86_64\nL:MIT\no:musl\n\nP:busybox\nV:1.36.1-r2\no:busybox\n"
    packages = parse_apk_installed(text, Distro(alpine_release="3.18.4"))
    assert [(p.name, p.version, p.ecosystem) for p in packages] == [
        ("musl", "1.2.4-r1", "Alpine:v3.18"), ("busybox", "1.36.1-r2", "Alpine:v3.18")]
    assert packages[0].purl == "pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64&distro=alpine-3.18.4"


@pytest.mark.points(2)
def test_python_and_npm_metadata() -> None:
    [yaml] = parse_python_metadata("Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3.1\n",
                                   "x/PyYAML-5.3.1.dist-info/METADATA")
    assert (yaml.name, yaml.purl) == ("pyyaml", "pkg:pypi/pyyaml@5.3.1")
    [scoped] = parse_npm_package_json('{"name": "@babel/core", "version": "7.22.0"}',
                                      "app/node_modules/@babel/core/package.json")
    assert scoped.purl == "pkg:npm/%40babel/core@7.22.0"
    assert parse_npm_package_json("{not json", "p") == []


@pytest.mark.points(4)
def test_inventory_layers_and_shadowed_packages() -> None:
    """A package removed by an upper layer is still shipped: reported as shadowed with the
    layer that added it and the one that removed it (trivy#3924)."""
    meta = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n"
    layers = [
        layer(0, {"etc/os-release": 'ID=debian\nVERSION_ID="12"\n'}),
        layer(1, {"var/lib/dpkg/status": STATUS}),
        layer(2, {"usr/lib/python3/dist-packages/PyYAML-5.3.1.dist-info/METADATA":
                  meta.format("PyYAML", "5.3.1"),
                  "usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA":
                  meta.format("requests", "2.25.0")}),
        layer(3, whiteouts={"usr/lib/python3/dist-packages/PyYAML-5.3.1.dist-info"}),
        layer(4, {"var/lib/dpkg/status": STATUS.split("\n\n")[1] + "\n"}),  # libssl3 removed
    ]
    img = image(layers)
    inventory = build_inventory(img, flatten(layers))
    installed = {(p.name, p.layer_index) for p in inventory.installed}
    assert installed == {("zlib1g", 1), ("requests", 2)}
    shadowed = {(p.name, p.layer_index, p.removed_in) for p in inventory.shadowed}
    assert shadowed == {("pyyaml", 2, 3), ("libssl3", 1, 4)}
