"""Version orders of the four ecosystems imgsec matches: dpkg, apk, PEP 440 and SemVer.

OSV ranges are only meaningful with the ecosystem's own order: `1:1.0` is newer than `2.0`
for dpkg (epoch), `1.0~rc1` is older than `1.0`, `1.2.4-r10` is newer than `1.2.4-r9` for apk
and `1.0.0-alpha` is older than `1.0.0` for SemVer. Everything here is pure and total:
`compare(ecosystem, a, b)` returns -1, 0 or 1, or raises `ValueError` for an unparseable
version (the caller decides whether that is an error or a skip).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from packaging.version import InvalidVersion, Version

# ------------------------------------------------------------------ dpkg


def _dpkg_order(char: str) -> int:
    """dpkg's character weight: `~` sorts before everything (even the end of the string),
    letters before non-letters."""
    if char == "~":
        return -1
    if char.isdigit():
        return 0
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _dpkg_compare_part(a: str, b: str) -> int:
    """Compare an upstream version or a revision with dpkg's verrevcmp algorithm."""
    # BEGIN SOLUTION: dpkg verrevcmp: alternate non-digit runs (weighted, ~ lowest) and numbers
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _dpkg_order(a[i]) if i < len(a) else 0
            bc = _dpkg_order(b[j]) if j < len(b) else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = (a[i] > b[j]) - (a[i] < b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0
    # END SOLUTION


def parse_dpkg(version: str) -> tuple[int, str, str]:
    """Split `[epoch:]upstream[-revision]`; a missing revision is "" (dpkg treats it as 0)."""
    version = version.strip()
    if not version or " " in version:
        raise ValueError(f"invalid dpkg version {version!r}")
    epoch = 0
    if ":" in version:
        head, version = version.split(":", 1)
        if not head.isdigit():
            raise ValueError(f"invalid dpkg epoch in {version!r}")
        epoch = int(head)
    upstream, revision = (version.rsplit("-", 1) if "-" in version else (version, ""))
    if not upstream or not upstream[0].isdigit():
        raise ValueError(f"invalid dpkg version {version!r}: must start with a digit")
    return epoch, upstream, revision


def compare_dpkg(a: str, b: str) -> int:
    """Order two Debian versions (epoch, then upstream, then revision)."""
    # BEGIN SOLUTION: compare epochs numerically, then upstream and revision with verrevcmp
    ea, ua, ra = parse_dpkg(a)
    eb, ub, rb = parse_dpkg(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _dpkg_compare_part(ua, ub) or _dpkg_compare_part(ra, rb)
    # END SOLUTION


# ------------------------------------------------------------------ apk

_APK_RE = re.compile(
    r"^(?P<nums>\d+(?:\.\d+)*)(?P<letter>[a-z]?)(?P<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)"
    r"(?:~[0-9a-f]+)?(?:-r(?P<rev>\d+))?$")
# apk-tools: pre-release suffixes sort below the bare version, `_p` (patch) above it.
_APK_SUFFIX_RANK = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3,
                    "hg": 4, "p": 5}


def _apk_key(version: str) -> tuple[tuple[int, ...], int, tuple[tuple[int, int], ...], int]:
    match = _APK_RE.match(version.strip())
    if not match:
        raise ValueError(f"invalid apk version {version!r}")
    nums = tuple(int(n) for n in match["nums"].split("."))
    letter = ord(match["letter"]) if match["letter"] else 0
    suffixes = tuple(
        (_APK_SUFFIX_RANK[name], int(num or 0))
        for name, num in re.findall(r"_([a-z]+)(\d*)", match["suffixes"]))
    return nums, letter, suffixes or ((0, 0),), int(match["rev"] or 0)


def compare_apk(a: str, b: str) -> int:
    """Order two Alpine versions: numbers, letter, suffixes (`_rc1` < none < `_p1`), `-rN`."""
    # BEGIN SOLUTION: build comparable keys (numeric parts padded, suffix ranks, revision)
    ka, kb = _apk_key(a), _apk_key(b)
    width = max(len(ka[0]), len(kb[0]))
    na, nb = ka[0] + (0,) * (width - len(ka[0])), kb[0] + (0,) * (width - len(kb[0]))
    left = (na, ka[1], ka[2], ka[3])
    right = (nb, kb[1], kb[2], kb[3])
    return (left > right) - (left < right)
    # END SOLUTION


# ------------------------------------------------------------------ PEP 440


def compare_pep440(a: str, b: str) -> int:
    """Order two Python versions with `packaging` (PEP 440: `1.0rc1 < 1.0 < 1.0.post1`)."""
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion as exc:
        raise ValueError(str(exc)) from exc
    return (va > vb) - (va < vb)


# ------------------------------------------------------------------ SemVer

_SEMVER_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$")


def _semver_key(version: str) -> tuple[int, int, int, tuple[str, ...] | None]:
    match = _SEMVER_RE.match(version.strip())
    if not match:
        raise ValueError(f"invalid SemVer version {version!r}")
    pre = tuple(match["pre"].split(".")) if match["pre"] else None
    return int(match["major"]), int(match["minor"]), int(match["patch"]), pre


def _compare_prerelease(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> int:
    """SemVer 2.0 section 11: no pre-release > any pre-release; numeric ids < alphanumeric."""
    # BEGIN SOLUTION: identifiers left to right; numbers numerically, numbers before text
    if a is None or b is None:
        return 0 if a is b else (1 if a is None else -1)
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))
    # END SOLUTION


def compare_semver(a: str, b: str) -> int:
    """Order two SemVer 2.0 versions; build metadata (`+...`) is ignored."""
    ka, kb = _semver_key(a), _semver_key(b)
    if ka[:3] != kb[:3]:
        return -1 if ka[:3] < kb[:3] else 1
    return _compare_prerelease(ka[3], kb[3])


# ------------------------------------------------------------------ dispatch

Comparator = Callable[[str, str], int]


def comparator_for(ecosystem: str) -> Comparator:
    """The order of an OSV ecosystem name (`Debian:12`, `Alpine:v3.18`, `PyPI`, `npm`)."""
    base = ecosystem.split(":", 1)[0]
    table: dict[str, Comparator] = {"Debian": compare_dpkg, "Ubuntu": compare_dpkg,
                                    "Alpine": compare_apk, "PyPI": compare_pep440,
                                    "npm": compare_semver}
    if base not in table:
        raise ValueError(f"unsupported ecosystem {ecosystem!r}")
    return table[base]


def compare(ecosystem: str, a: str, b: str) -> int:
    return comparator_for(ecosystem)(a, b)
