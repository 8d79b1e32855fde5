import pytest

from imgsec.osv import OSVRecordError, in_range, match_record, severity_of, validate_record


def events(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{kind: value} for kind, value in pairs]


@pytest.mark.points(3)
def test_introduced_fixed_last_affected() -> None:
    fixed = events(("introduced", "2.3.0"), ("fixed", "2.31.0"))
    assert [in_range("PyPI", v, fixed) for v in ("2.2", "2.3.0", "2.25.0", "2.31.0", "3.0")] \
        == [False, True, True, False, False]
    last = events(("introduced", "0"), ("last_affected", "1.26.4"))
    assert [in_range("PyPI", v, last) for v in ("1.0", "1.26.4", "1.26.5")] == [True, True, False]


@pytest.mark.points(2)
def test_multiple_introduced_fixed_pairs_in_any_order() -> None:
    # Two vulnerable windows, listed out of order: events are sorted by version first.
    evs = events(("fixed", "1.2.6"), ("introduced", "2.0.0"), ("introduced", "1.0.0"),
                 ("fixed", "2.1.0"))
    assert [in_range("npm", v, evs) for v in ("0.9.0", "1.0.0", "1.2.5", "1.2.6", "2.0.5",
                                              "2.1.0")] == [False, True, True, False, True, False]


@pytest.mark.points(2)
def test_limit_caps_the_range() -> None:
    evs = events(("introduced", "0"), ("limit", "1.5.0"))
    assert in_range("npm", "1.4.9", evs) and not in_range("npm", "1.5.0", evs)


@pytest.mark.points(2)
def test_ecosystem_order_matters() -> None:
    """Debian epochs and `~`: a string comparison would get both of these wrong."""
    evs = events(("introduced", "0"), ("fixed", "1:1.2.11.dfsg-4"))
    assert not in_range("Debian:12", "1:1.2.13.dfsg-1", evs)
    tilde = events(("introduced", "0"), ("fixed", "3.0.11-1"))
    assert in_range("Debian:12", "3.0.11-1~deb12u2", tilde)


@pytest.mark.points(2)
def test_match_record_versions_release_and_name_rules() -> None:
    record = {"id": "X-1", "aliases": ["CVE-1"], "affected": [
        {"package": {"ecosystem": "PyPI", "name": "PyYAML"}, "versions": ["5.3.1"]},
        {"package": {"ecosystem": "Debian:11", "name": "openssl"},
         "ranges": [{"type": "ECOSYSTEM", "events": events(("introduced", "0"))}]}]}
    assert match_record(record, "PyPI", "pyyaml", "5.3.1") is not None  # PEP 503 names
    assert match_record(record, "PyPI", "pyyaml", "5.4") is None
    assert match_record(record, "Debian:12", "openssl", "3.0.11-1") is None  # other release
    assert match_record(record, "Debian:11", "openssl", "1.1.1") is not None


@pytest.mark.points(1)
def test_severity_from_cvss_vector() -> None:
    record = {"severity": [{"type": "CVSS_V3",
                            "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}
    assert severity_of(record)[:2] == ("critical", 9.8)
    assert severity_of({"database_specific": {"severity": "MODERATE"}})[0] == "medium"
    assert severity_of({})[0] == "unknown"


@pytest.mark.points(1)
@pytest.mark.parametrize("record", [
    {"affected": []},
    {"id": "A", "affected": [{"package": {"name": "x"}}]},
    {"id": "A", "affected": [{"package": {"ecosystem": "npm", "name": "x"},
                              "ranges": [{"type": "SEMVER", "events": [{"fixd": "1.0.0"}]}]}]},
])
def test_malformed_records_are_rejected(record: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(OSVRecordError):
        validate_record(record)
