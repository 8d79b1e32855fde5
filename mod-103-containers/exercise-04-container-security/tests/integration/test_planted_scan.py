"""The planted image, scanned for real: exact findings of every kind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aiinfra_shared.procs.images import BuiltImage

from imgsec.adapters.imagefiles import load_docker_archive, load_oci_layout
from imgsec.adapters.vulndb import VulnDB
from imgsec.scan import ScanResult, scan

pytestmark = pytest.mark.integration


_SCANS: dict[Path, ScanResult] = {}


@pytest.fixture
def scan_result(planted_image: BuiltImage, fixture_db: Path) -> Callable[[], ScanResult]:
    """The scan, run once per module on first use. A callable, not the value: an unfinished
    scanner then fails each test that needs it instead of erroring in fixture setup."""

    def get() -> ScanResult:
        if planted_image.docker_archive not in _SCANS:
            with VulnDB(fixture_db) as db:
                _SCANS[planted_image.docker_archive] = scan(
                    load_docker_archive(planted_image.docker_archive), db)
        return _SCANS[planted_image.docker_archive]

    return get


@pytest.mark.points(3)
def test_image_model_layers_history(planted_image: BuiltImage) -> None:
    image = load_docker_archive(planted_image.docker_archive)
    assert len(image.layers) == planted_image.layer_count == 10
    assert image.layers[9].whiteouts == {"root/.aws",
                                         "usr/lib/python3/dist-packages/PyYAML-5.3.1.dist-info"}
    assert "BUILD_TOKEN=" in image.layers[9].created_by  # buildah records ARGs in history
    assert image.env["API_TOKEN"].startswith("imgsec-planted")
    assert image.user == ""


@pytest.mark.points(4)
def test_inventory_with_layers_and_shadowed_package(scan_result: Callable[[], ScanResult]) -> None:
    result = scan_result()
    installed = {(p.type, p.name, p.version, p.layer_index) for p in result.inventory.installed}
    assert installed == {
        ("deb", "libssl3", "3.0.11-1~deb12u2", 3), ("deb", "openssl", "3.0.11-1~deb12u2", 3),
        ("deb", "tzdata", "2024a-0+deb12u1", 3), ("deb", "zlib1g", "1:1.2.13.dfsg-1", 3),
        ("apk", "busybox", "1.36.1-r2", 4), ("apk", "musl", "1.2.4-r1", 4),
        ("pypi", "requests", "2.25.0", 5), ("pypi", "urllib3", "1.26.5", 5),
        ("npm", "lodash", "4.17.20", 6), ("npm", "minimist", "1.2.5", 6)}
    [shadowed] = result.inventory.shadowed
    assert (shadowed.name, shadowed.layer_index, shadowed.removed_in) == ("pyyaml", 5, 9)


@pytest.mark.points(5)
def test_exact_vulnerabilities(scan_result: Callable[[], ScanResult]) -> None:
    result = scan_result()
    found = {(f.match.vuln_id, f.package.name, f.match.severity, f.match.fixed)
             for f in result.vulnerabilities}
    assert found == {
        ("DEBIAN-CVE-2023-45853", "zlib1g", "critical", None),
        ("GHSA-xvch-5gv4-984h", "minimist", "critical", "1.2.6"),
        ("PYSEC-2021-142", "pyyaml", "critical", "5.4"),  # shadowed, still shipped
        ("ALPINE-CVE-2025-26519", "musl", "high", "1.2.4-r3"),
        ("GHSA-35jh-r3h4-6jhm", "lodash", "high", "4.17.21"),
        ("DEBIAN-CVE-2023-5678", "libssl3", "medium", "3.0.13-1~deb12u1"),  # via Source:
        ("DEBIAN-CVE-2023-5678", "openssl", "medium", "3.0.13-1~deb12u1"),
        ("IMGSEC-TEST-2026-0001", "urllib3", "medium", None),  # explicit versions list
        ("PYSEC-2023-74", "requests", "medium", "2.31.0"),
    }
    # Not matched on purpose: Debian 11 record, epoch-older fix, binary-name record,
    # busybox -r1 fix, urllib3 last_affected 1.26.4.


@pytest.mark.points(4)
@pytest.mark.hidden
def test_exact_secrets_never_printed(scan_result: Callable[[], ScanResult]) -> None:
    result = scan_result()
    found = {(s.rule, s.location, s.path, s.layer_index, s.deleted) for s in result.secrets}
    assert found == {
        ("aws-access-key-pair", "file", "root/.aws/credentials", 7, True),
        ("unquoted-token", "file", "app/.env", 8, False),
        ("unquoted-token", "env", "API_TOKEN", None, False),
        ("unquoted-token", "history", "history[9]", None, False),  # ENV instruction
        ("unquoted-token", "history", "history[11]", None, False),  # build ARG in RUN
    }
    deleted = next(s for s in result.secrets if s.deleted)
    assert deleted.instruction.startswith("/bin/sh -c #(nop) COPY")
    text = repr(result.secrets)
    for secret in ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "imgsec-planted-arg-9d8c7b6a5f",
                   "imgsec-planted-env-4f9c2e7a1b", "dpl-7f3a9c1e5b2d8f4a"):
        assert secret not in text


@pytest.mark.points(3)
def test_exact_checks(scan_result: Callable[[], ScanResult]) -> None:
    result = scan_result()
    failed = {c.id: c.level for c in result.checks if c.failed}
    assert failed == {"CIS-DI-0001": "WARN", "CIS-DI-0006": "INFO", "CIS-DI-0008": "INFO",
                      "CIS-DI-0010": "FATAL", "DKL-LI-0003": "INFO"}
    setuid = next(c for c in result.checks if c.id == "CIS-DI-0008")
    assert setuid.evidence == ("/usr/local/bin/helper (setuid, mode 4755)",)
    assert result.scorecard.grade == "F"


@pytest.mark.points(2)
def test_oci_layout_gives_the_same_scan(planted_image: BuiltImage, fixture_db: Path,
                                        scan_result: Callable[[], ScanResult]) -> None:
    result = scan_result()
    image = load_oci_layout(planted_image.oci_layout)
    assert image.image_id == result.image.image_id and image.manifest_digest.startswith("sha256:")
    with VulnDB(fixture_db) as db:
        again = scan(image, db)
    assert [f.key for f in again.vulnerabilities] == [f.key for f in result.vulnerabilities]
    assert [s.key for s in again.secrets] == [s.key for s in result.secrets]
