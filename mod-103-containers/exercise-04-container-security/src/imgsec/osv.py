"""OSV records: validation, range evaluation and severity. Pure: no database, no files.

A record affects a package when one of its `affected[]` entries names the package's
ecosystem and name, and either lists the version in `versions` or one of its ECOSYSTEM or
SEMVER `ranges` contains it. Range events follow the OSV spec's algorithm: sorted by version
(`introduced: "0"` first), `introduced` opens, `fixed` closes (exclusive), `last_affected`
closes after the version; `limit` caps the whole range.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from imgsec.catalog.catalogers import normalize_pypi
from imgsec.versions import comparator_for

SEVERITIES = ("unknown", "low", "medium", "high", "critical")
SUPPORTED_ECOSYSTEMS = ("Debian", "Alpine", "PyPI", "npm", "Ubuntu")


class OSVRecordError(ValueError):
    """A record does not follow the OSV schema; the message names the field."""


@dataclass(frozen=True)
class Match:
    vuln_id: str
    aliases: tuple[str, ...]
    summary: str
    severity: str
    score: float | None
    fixed: str | None  # the first fixed version above the installed one, if any
    cvss_vector: str


def validate_record(record: Any) -> dict[str, Any]:
    """Check the fields imgsec relies on; raise OSVRecordError naming the first bad one."""
    # BEGIN SOLUTION: id, modified, affected[].package, ranges[].type/events, versions
    if not isinstance(record, dict):
        raise OSVRecordError("record is not a JSON object")
    if not isinstance(record.get("id"), str) or not record["id"]:
        raise OSVRecordError("missing string field 'id'")
    if not isinstance(record.get("modified", ""), str):
        raise OSVRecordError("'modified' must be an RFC 3339 string")
    affected = record.get("affected", [])
    if not isinstance(affected, list):
        raise OSVRecordError("'affected' must be a list")
    for i, entry in enumerate(affected):
        package = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or not package.get("ecosystem") or not package.get(
                "name"):
            raise OSVRecordError(f"affected[{i}].package needs 'ecosystem' and 'name'")
        for j, range_ in enumerate(entry.get("ranges") or []):
            if range_.get("type") not in ("ECOSYSTEM", "SEMVER", "GIT"):
                raise OSVRecordError(f"affected[{i}].ranges[{j}].type must be ECOSYSTEM, "
                                     f"SEMVER or GIT (got {range_.get('type')!r})")
            events = range_.get("events")
            if not isinstance(events, list) or not events:
                raise OSVRecordError(f"affected[{i}].ranges[{j}].events must be a non-empty list")
            for event in events:
                if not isinstance(event, dict) or len(event) != 1 or next(iter(event)) not in (
                        "introduced", "fixed", "last_affected", "limit"):
                    raise OSVRecordError(f"affected[{i}].ranges[{j}]: bad event {event!r}")
        if not isinstance(entry.get("versions", []), list):
            raise OSVRecordError(f"affected[{i}].versions must be a list")
    # END SOLUTION
    return record


def _event_sort_key(compare: Any) -> Any:
    def cmp(a: tuple[str, str], b: tuple[str, str]) -> int:
        if a[1] == b[1]:
            return 0
        if a[1] == "0":
            return -1
        if b[1] == "0":
            return 1
        return int(compare(a[1], b[1]))

    return functools.cmp_to_key(cmp)


def in_range(ecosystem: str, version: str, events: list[dict[str, str]]) -> bool:
    """The OSV spec's evaluation of one range's events for `version`."""
    compare = comparator_for(ecosystem)
    # BEGIN SOLUTION: sort events, walk introduced/fixed/last_affected, cap with limit
    pairs = [next(iter(e.items())) for e in events]
    limits = [value for kind, value in pairs if kind == "limit"]
    if limits and all(value != "*" and compare(version, value) >= 0 for value in limits):
        return False
    vulnerable = False
    ordered = sorted((p for p in pairs if p[0] != "limit"), key=_event_sort_key(compare))
    for kind, value in ordered:
        if kind == "introduced" and (value == "0" or compare(version, value) >= 0):
            vulnerable = True
        elif kind == "fixed" and compare(version, value) >= 0:  # noqa: SIM114 -- spec's order
            vulnerable = False
        elif kind == "last_affected" and compare(version, value) > 0:
            vulnerable = False
    return vulnerable
    # END SOLUTION


def first_fixed(ecosystem: str, version: str, affected: dict[str, Any]) -> str | None:
    """The lowest `fixed` event above `version`: what to upgrade to."""
    compare = comparator_for(ecosystem)
    fixes = [e["fixed"] for r in affected.get("ranges") or [] for e in r.get("events", [])
             if "fixed" in e]
    above = [f for f in fixes if compare(f, version) > 0]
    return min(above, key=functools.cmp_to_key(compare)) if above else None


def affects(ecosystem: str, version: str, affected: dict[str, Any]) -> bool:
    """Does this `affected[]` entry contain `version` (explicit list or any range)?"""
    if version in (affected.get("versions") or []):
        return True
    for range_ in affected.get("ranges") or []:
        if range_.get("type") in ("ECOSYSTEM", "SEMVER") and in_range(
                ecosystem, version, range_["events"]):
            return True
    return False


def severity_of(record: dict[str, Any]) -> tuple[str, float | None, str]:
    """(severity, base score, vector) from the first CVSS vector; else database_specific."""
    for item in record.get("severity") or []:
        vector = str(item.get("score", ""))
        try:
            if item.get("type") == "CVSS_V4":
                v4 = CVSS4(vector)
                return v4.severity.lower(), float(v4.base_score), vector
            if item.get("type") == "CVSS_V3":
                v3 = CVSS3(vector)
                return v3.severities()[0].lower(), float(v3.scores()[0]), vector
        except CVSSError:
            continue
    label = str((record.get("database_specific") or {}).get("severity", "")).lower()
    if label == "moderate":
        label = "medium"
    return (label if label in SEVERITIES else "unknown"), None, ""


def ecosystem_matches(record_ecosystem: str, package_ecosystem: str) -> bool:
    """`Debian:12` matches only Debian 12; a bare `Debian` record matches any release."""
    return record_ecosystem == package_ecosystem or (
        ":" not in record_ecosystem and package_ecosystem.split(":")[0] == record_ecosystem)


def _same_name(ecosystem: str, a: str, b: str) -> bool:
    """PyPI names compare after PEP 503 normalisation (`PyYAML` == `pyyaml`)."""
    if ecosystem.split(":")[0] == "PyPI":
        return normalize_pypi(a) == normalize_pypi(b)
    return a == b


def match_record(record: dict[str, Any], ecosystem: str, name: str,
                 version: str) -> Match | None:
    """A Match if `record` affects (ecosystem, name, version), else None."""
    for affected in record.get("affected") or []:
        package = affected["package"]
        if not _same_name(ecosystem, package["name"], name) or not ecosystem_matches(
                package["ecosystem"], ecosystem):
            continue
        try:
            hit = affects(ecosystem, version, affected)
        except ValueError:
            continue  # a version this ecosystem cannot order: never a silent "vulnerable"
        if hit:
            severity, score, vector = severity_of(record)
            return Match(vuln_id=record["id"], aliases=tuple(record.get("aliases") or []),
                         summary=str(record.get("summary") or record.get("details", ""))[:200],
                         severity=severity, score=score,
                         fixed=first_fixed(ecosystem, version, affected), cvss_vector=vector)
    return None
