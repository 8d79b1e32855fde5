from typing import Any

import pytest

from imgsec.errors import InvalidInputError
from imgsec.vex import decide, parse_document, purl_matches

IMAGE = "sha256:" + "ab" * 32
OPENSSL = "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
            "author": "sec team", "timestamp": "2026-11-01T00:00:00Z", "version": 1,
            "statements": list(statements)}


def stmt(vuln: str, products: list[Any], status: str = "not_affected", **extra: Any) -> dict[
        str, Any]:
    extra.setdefault("justification", "vulnerable_code_not_in_execute_path")
    return {"vulnerability": {"name": vuln}, "products": products, "status": status, **extra}


@pytest.mark.points(2)
def test_purl_matching_rules() -> None:
    assert purl_matches("pkg:deb/debian/openssl", OPENSSL)  # version-less: every version
    assert purl_matches("pkg:deb/debian/openssl@3.0.11-1~deb12u2", OPENSSL)
    assert purl_matches("pkg:deb/debian/openssl?arch=amd64", OPENSSL)
    assert not purl_matches("pkg:deb/debian/openssl@3.0.13-1", OPENSSL)
    assert not purl_matches("pkg:deb/debian/openssl?arch=arm64", OPENSSL)
    assert not purl_matches("pkg:deb/debian/libssl3", OPENSSL)
    assert not purl_matches("pkg:apk/alpine/openssl", OPENSSL)


@pytest.mark.points(3)
def test_statement_suppresses_exactly_what_it_names() -> None:
    statements = parse_document(doc(
        stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/openssl"}]),  # alias, version-less purl
    ), "vex.json")
    ids = {"DEBIAN-CVE-2023-5678", "CVE-2023-5678"}
    assert decide(statements, ids, OPENSSL, {IMAGE}) is not None
    other_pkg = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64"
    assert decide(statements, ids, other_pkg, {IMAGE}) is None
    assert decide(statements, {"CVE-2099-1"}, OPENSSL, {IMAGE}) is None


@pytest.mark.points(3)
@pytest.mark.hidden
def test_image_product_with_subcomponents() -> None:
    """grype#1836: a statement on the image digest with a subcomponent purl must suppress
    that package's finding (and no other package's)."""
    statements = parse_document(doc(stmt(
        "GHSA-35jh-r3h4-6jhm",
        [{"@id": f"pkg:oci/app@{IMAGE.replace(':', '%3A')}",
          "subcomponents": [{"@id": "pkg:npm/lodash"}]}])), "vex.json")
    assert decide(statements, {"GHSA-35jh-r3h4-6jhm"}, "pkg:npm/lodash@4.17.20", {IMAGE})
    assert decide(statements, {"GHSA-35jh-r3h4-6jhm"}, "pkg:npm/minimist@1.2.5", {IMAGE}) is None
    assert decide(statements, {"GHSA-35jh-r3h4-6jhm"}, "pkg:npm/lodash@4.17.20",
                  {"sha256:" + "cd" * 32}) is None  # another image


@pytest.mark.points(1)
def test_last_statement_wins_and_affected_keeps_finding() -> None:
    statements = parse_document(doc(
        stmt("CVE-1", [{"@id": "pkg:npm/lodash"}]),
        stmt("CVE-1", [{"@id": "pkg:npm/lodash"}], status="affected", justification=None,
             action_statement="upgrade")), "vex.json")
    assert decide(statements, {"CVE-1"}, "pkg:npm/lodash@4.17.20", {IMAGE}) is None


@pytest.mark.points(1)
@pytest.mark.parametrize(("statement", "message"), [
    (stmt("CVE-1", [{"@id": "pkg:npm/x"}], status="resolved"), "unknown status 'resolved'"),
    (stmt("CVE-1", [{"@id": "pkg:npm/x"}], justification=""), "not_affected needs a justification"),
    (stmt("CVE-1", [{"@id": "pkg:npm/x"}], justification="trust me"), "unknown justification"),
    (stmt("CVE-1", []), "needs at least one product"),
])
def test_invalid_statements(statement: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"vex.json: statement 0: {message}"):
        parse_document(doc(statement), "vex.json")
