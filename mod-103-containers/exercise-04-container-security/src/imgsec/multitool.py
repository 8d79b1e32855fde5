"""Import Trivy and Grype JSON reports and merge them with ours by vulnerability + package.

Tools disagree on ids (Grype reports a GHSA where Trivy reports the CVE) and on purl
qualifiers, so the merge key is (canonical id, purl without qualifiers): the CVE among the
id and its aliases when there is one, else the id. Each merged row lists which tools saw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from imgsec.errors import InvalidInputError
from imgsec.scorecard import SEVERITY_RANK


@dataclass
class Row:
    vuln_id: str
    purl: str
    severity: str
    fixed: str | None
    aliases: set[str] = field(default_factory=set)
    tools: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.vuln_id, "purl": self.purl, "severity": self.severity,
                "fixed": self.fixed, "aliases": sorted(self.aliases - {self.vuln_id}),
                "tools": sorted(self.tools)}


def bare_purl(purl: str) -> str:
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return purl
    return PackageURL(type=parsed.type, namespace=parsed.namespace, name=parsed.name.lower()
                      if parsed.type == "pypi" else parsed.name,
                      version=parsed.version).to_string()


def canonical(ids: set[str]) -> str:
    cves = sorted(i for i in ids if i.startswith("CVE-"))
    return cves[0] if cves else sorted(ids)[0]


def parse_trivy(payload: Any) -> list[Row]:
    if not isinstance(payload, dict) or "Results" not in payload:
        raise InvalidInputError("not a Trivy JSON report (no Results)")
    rows = []
    for target in payload.get("Results") or []:
        for v in target.get("Vulnerabilities") or []:
            purl = ((v.get("PkgIdentifier") or {}).get("PURL")
                    or f"pkg:generic/{v['PkgName']}@{v['InstalledVersion']}")
            rows.append(Row(v["VulnerabilityID"], bare_purl(purl),
                            str(v.get("Severity", "unknown")).lower(),
                            v.get("FixedVersion") or None, {v["VulnerabilityID"]}, {"trivy"}))
    return rows


def parse_grype(payload: Any) -> list[Row]:
    if not isinstance(payload, dict) or "matches" not in payload:
        raise InvalidInputError("not a Grype JSON report (no matches)")
    rows = []
    for match in payload.get("matches") or []:
        vuln, artifact = match["vulnerability"], match["artifact"]
        ids = {vuln["id"], *(r["id"] for r in match.get("relatedVulnerabilities") or [])}
        fixes = (vuln.get("fix") or {}).get("versions") or []
        rows.append(Row(vuln["id"], bare_purl(artifact.get("purl") or
                                              f"pkg:generic/{artifact['name']}@"
                                              f"{artifact['version']}"),
                        str(vuln.get("severity", "unknown")).lower(),
                        fixes[0] if fixes else None, ids, {"grype"}))
    return rows


def rows_from_imgsec(report: dict[str, Any]) -> list[Row]:
    return [Row(v["id"], bare_purl(v["purl"]), v["severity"], v["fixed"],
                {v["id"], *v["aliases"]}, {"imgsec"}) for v in report["vulnerabilities"]]


def merge(*sources: list[Row]) -> list[Row]:
    # BEGIN SOLUTION: group by (canonical id over all aliases, bare purl); union tools/aliases
    merged: dict[tuple[str, str], Row] = {}
    for rows in sources:
        for row in rows:
            key = (canonical(row.aliases | {row.vuln_id}), row.purl)
            if key not in merged:
                merged[key] = Row(key[0], row.purl, row.severity, row.fixed, set(row.aliases),
                                  set(row.tools))
                continue
            into = merged[key]
            into.aliases |= row.aliases
            into.tools |= row.tools
            into.fixed = into.fixed or row.fixed
            if SEVERITY_RANK.get(row.severity, 0) > SEVERITY_RANK.get(into.severity, 0):
                into.severity = row.severity
    # END SOLUTION
    return sorted(merged.values(), key=lambda r: (r.vuln_id, r.purl))
