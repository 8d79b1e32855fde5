"""Comparator tables: each row is (a, b, expected sign of compare(a, b))."""

import pytest

from imgsec.versions import compare_apk, compare_dpkg, compare_pep440, compare_semver

DPKG = [
    ("1.0", "1.0", 0),
    ("1:1.0", "2.0", 1),  # epoch wins over everything
    ("1:1.2.13.dfsg-1", "1:1.2.11.dfsg-4", 1),
    ("1.2.13.dfsg-1", "1:1.2.11.dfsg-4", -1),  # no epoch = epoch 0
    ("1.0~rc1", "1.0", -1),  # ~ sorts before the end of the string
    ("1.0~~", "1.0~", -1),
    ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1", -1),
    ("3.0.11-1~deb12u2", "3.0.11-1", -1),
    ("3.0.11-1+deb12u1", "3.0.11-1", 1),
    ("1.0-1", "1.0-1.1", -1),
    ("1.0a", "1.0+", -1),  # letters sort before non-letters
    ("1.10", "1.9", 1),
    ("1.001", "1.1", 0),  # numbers compare numerically
    ("2024a-0+deb12u1", "2024a-0", 1),
    ("1.0", "1.0-0", 0),  # missing revision is revision 0
]

APK = [
    ("1.2.4-r1", "1.2.4-r3", -1),
    ("1.2.4-r10", "1.2.4-r9", 1),
    ("1.36.1-r2", "1.36.1-r1", 1),
    ("1.2.4_rc1", "1.2.4", -1),
    ("1.2.4_p1", "1.2.4", 1),
    ("1.2.4_alpha1", "1.2.4_beta1", -1),
    ("1.2a", "1.2", 1),
    ("1.2", "1.2.0", 0),
    ("3.1.4-r0", "3.1.4", 0),
]

SEMVER = [
    ("1.0.0-alpha", "1.0.0", -1),
    ("1.0.0-alpha", "1.0.0-alpha.1", -1),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
    ("1.0.0-beta.2", "1.0.0-beta.11", -1),
    ("1.0.0-rc.1", "1.0.0", -1),
    ("4.17.20", "4.17.21", -1),
    ("1.2.10", "1.2.9", 1),
    ("1.0.0+build.5", "1.0.0", 0),
]

PEP440 = [("1.0rc1", "1.0", -1), ("1.0", "1.0.post1", -1), ("2.25.0", "2.31.0", -1),
          ("1!0.1", "2.0", 1), ("5.3.1", "5.4", -1)]


def sign(value: int) -> int:
    return (value > 0) - (value < 0)


def wrong(compare, table):  # type: ignore[no-untyped-def]
    """Rows where compare disagrees with the table (either direction): empty when right."""
    return [(a, b, expected) for a, b, expected in table
            if sign(compare(a, b)) != expected or sign(compare(b, a)) != -expected]


@pytest.mark.points(3)
def test_dpkg_order() -> None:
    assert wrong(compare_dpkg, DPKG) == []


@pytest.mark.points(2)
def test_apk_order() -> None:
    assert wrong(compare_apk, APK) == []


@pytest.mark.points(2)
def test_semver_order() -> None:
    assert wrong(compare_semver, SEMVER) == []


@pytest.mark.points(1)
def test_pep440_order() -> None:
    assert wrong(compare_pep440, PEP440) == []


@pytest.mark.points(1)
def test_unparseable_versions_raise() -> None:
    for compare, bad in [(compare_dpkg, "abc"), (compare_dpkg, "x:1.0"),
                         (compare_apk, "1.0-rX"), (compare_semver, "1.0"),
                         (compare_pep440, "not a version")]:
        with pytest.raises(ValueError):
            compare(bad, "1.0.0")
