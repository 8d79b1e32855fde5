"""Match an inventory against the vulnerability database: one Finding per (package, record).

Debian advisories name source packages (`openssl`, not `libssl3`), so a deb package is
looked up by its `Source:` name and version. Shadowed packages are matched too: their files
still ship in a lower layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from imgsec.catalog.package import Package
from imgsec.osv import Match, match_record


class RecordSource(Protocol):
    def candidates(self, ecosystem: str, name: str,
                   indexed: bool = True) -> list[dict[str, object]]: ...


@dataclass(frozen=True)
class Finding:
    package: Package
    match: Match

    @property
    def key(self) -> tuple[str, str]:
        return self.match.vuln_id, self.package.purl


def find_vulnerabilities(packages: list[Package], db: RecordSource,
                         indexed: bool = True) -> list[Finding]:
    findings: list[Finding] = []
    # BEGIN SOLUTION: candidates by (ecosystem, match_name); keep records that match_version hits
    for package in packages:
        for record in db.candidates(package.ecosystem, package.match_name, indexed=indexed):
            match = match_record(dict(record), package.ecosystem, package.match_name,
                                 package.match_version)
            if match is not None:
                findings.append(Finding(package, match))
    # END SOLUTION
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "unknown": 4}
    findings.sort(key=lambda f: (rank[f.match.severity], f.match.vuln_id, f.package.purl))
    return findings
