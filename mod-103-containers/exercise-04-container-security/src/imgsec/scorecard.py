"""One grade per image from every kind of finding, and the CI gate.

Weights (points off 100): a vulnerability by severity (critical 15, high 8, medium 3, low 1),
a secret 20 (a leaked credential is an incident, whatever layer it is in), a failed check by
level (FATAL 8, WARN 3, INFO 1). Suppressed (VEX) findings and, with --ignore-unfixed,
unfixed ones cost nothing. Grades: A >= 90, B >= 80, C >= 70, D >= 60, else F.
"""

from __future__ import annotations

from dataclasses import dataclass

VULN_WEIGHT = {"critical": 15.0, "high": 8.0, "medium": 3.0, "low": 1.0, "unknown": 1.0}
SECRET_WEIGHT = 20.0
CHECK_WEIGHT = {"FATAL": 8.0, "WARN": 3.0, "INFO": 1.0}
GRADES = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))
SEVERITY_RANK = {"unknown": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True)
class Scorecard:
    score: float
    grade: str
    vulnerabilities: dict[str, int]  # severity -> count
    secrets: int
    checks_failed: dict[str, int]  # level -> count
    suppressed: int
    shadowed_packages: int

    def as_dict(self) -> dict[str, object]:
        return {"score": self.score, "grade": self.grade, "vulnerabilities": self.vulnerabilities,
                "secrets": self.secrets, "checks_failed": self.checks_failed,
                "suppressed": self.suppressed, "shadowed_packages": self.shadowed_packages}


def grade_for(score: float) -> str:
    return next((grade for floor, grade in GRADES if score >= floor), "F")


def compute(vuln_severities: list[str], secrets: int, failed_levels: list[str],
            suppressed: int = 0, shadowed: int = 0) -> Scorecard:
    # BEGIN SOLUTION: subtract the weights from 100 (floor 0), count per severity/level
    penalty = sum(VULN_WEIGHT.get(s, 1.0) for s in vuln_severities)
    penalty += SECRET_WEIGHT * secrets
    penalty += sum(CHECK_WEIGHT.get(level, 0.0) for level in failed_levels)
    score = round(max(0.0, 100.0 - penalty), 1)
    by_severity = {s: vuln_severities.count(s) for s in ("critical", "high", "medium", "low",
                                                          "unknown")}
    by_level = {lvl: failed_levels.count(lvl) for lvl in ("FATAL", "WARN", "INFO")}
    # END SOLUTION
    return Scorecard(score, grade_for(score), by_severity, secrets, by_level, suppressed, shadowed)


def gate_failures(threshold: str, vuln_severities: list[str], secrets: int,
                  check_severities: list[str]) -> list[str]:
    """Why the gate fails at `threshold` (empty: it passes). Secrets count as critical."""
    limit = SEVERITY_RANK[threshold]
    reasons = []
    vulns = [s for s in vuln_severities if SEVERITY_RANK.get(s, 0) >= limit]
    if vulns:
        reasons.append(f"{len(vulns)} vulnerabilities at or above {threshold}")
    if secrets and SEVERITY_RANK["critical"] >= limit:
        reasons.append(f"{secrets} secrets")
    checks = [s for s in check_severities if SEVERITY_RANK.get(s, 0) >= limit]
    if checks:
        reasons.append(f"{len(checks)} failed checks at or above {threshold}")
    return reasons
