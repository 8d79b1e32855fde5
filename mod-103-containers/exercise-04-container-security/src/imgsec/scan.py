"""One scan: load -> flatten -> inventory -> vulnerabilities (+VEX) -> secrets -> checks.

Pure orchestration over an already-loaded `Image` and an open `VulnDB`; the CLI does the
loading (files, skopeo) and rendering. The result is plain data every report reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imgsec.catalog.inventory import Inventory, build_inventory
from imgsec.catalog.package import Distro
from imgsec.cis import LEVEL_SEVERITY, CheckResult, run_checks
from imgsec.layers import FlatView, flatten
from imgsec.matching import Finding, RecordSource, find_vulnerabilities
from imgsec.model import Image, Layer
from imgsec.scorecard import Scorecard, compute, gate_failures
from imgsec.secrets import SecretFinding, scan_image
from imgsec.vex import Statement, decide


@dataclass(frozen=True)
class LintFinding:
    """A Dockerfile lint result (hadolint), merged into the misconfiguration report."""

    code: str
    level: str  # error, warning, info, style
    message: str
    line: int
    file: str

    @property
    def severity(self) -> str:
        return {"error": "high", "warning": "medium", "info": "low"}.get(self.level, "low")


@dataclass
class ScanResult:
    image: Image
    view: FlatView
    inventory: Inventory
    vulnerabilities: list[Finding]
    suppressed: list[tuple[Finding, Statement]]
    unfixed_ignored: list[Finding]
    secrets: list[SecretFinding]
    checks: list[CheckResult]
    lint: list[LintFinding] = field(default_factory=list)
    db: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def scorecard(self) -> Scorecard:
        return compute([f.match.severity for f in self.vulnerabilities], len(self.secrets),
                       [c.level for c in self.checks if c.failed]
                       + [{"high": "FATAL", "medium": "WARN"}.get(x.severity, "INFO")
                          for x in self.lint],
                       suppressed=len(self.suppressed),
                       shadowed=len(self.inventory.shadowed))

    def gate(self, threshold: str) -> list[str]:
        return gate_failures(threshold, [f.match.severity for f in self.vulnerabilities],
                             len(self.secrets),
                             [LEVEL_SEVERITY[c.level] for c in self.checks if c.failed]
                             + [x.severity for x in self.lint])


def apply_vex(findings: list[Finding], statements: list[Statement], image_digests: set[str]
              ) -> tuple[list[Finding], list[tuple[Finding, Statement]]]:
    """Split findings into (kept, suppressed with the statement that suppressed each)."""
    kept, suppressed = [], []
    for finding in findings:
        ids = {finding.match.vuln_id, *finding.match.aliases}
        statement = decide(statements, ids, finding.package.purl, image_digests)
        if statement is None:
            kept.append(finding)
        else:
            suppressed.append((finding, statement))
    return kept, suppressed


def scan(image: Image, db: RecordSource | None, vex: list[Statement] | None = None,
         ignore_unfixed: bool = False, use_detect_secrets: bool = True) -> ScanResult:
    view = flatten(image.layers)
    inventory = build_inventory(image, view)
    findings = find_vulnerabilities(inventory.packages, db) if db is not None else []
    kept, suppressed = apply_vex(findings, vex or [], image.digests())
    unfixed = [f for f in kept if ignore_unfixed and f.match.fixed is None]
    kept = [f for f in kept if f not in unfixed]
    secrets = scan_image(image, view, use_detect_secrets)
    checks = run_checks(image, view, secrets)
    return ScanResult(image, view, inventory, kept, suppressed, unfixed, secrets, checks)


def scan_dockerfile(path: Path, lint: list[LintFinding],
                    use_detect_secrets: bool = True) -> ScanResult:
    """A Dockerfile alone: hadolint's findings plus our secret rules on its text (no image,
    so no inventory and no image checks)."""
    layer = Layer(index=0, digest=f"dockerfile:{path.name}",
                  contents={path.name: path.read_bytes()})
    image = Image(name=str(path), image_id="", layers=[layer], source="dockerfile")
    view = flatten(image.layers)
    return ScanResult(image, view, Inventory([], Distro()), [], [], [],
                      scan_image(image, view, use_detect_secrets), [], lint)
