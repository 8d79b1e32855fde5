import json
from pathlib import Path

import pytest

from imgsec.multitool import merge, parse_grype, parse_trivy, rows_from_imgsec
from imgsec.scorecard import compute, gate_failures

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.points(2)
def test_scorecard_weights_and_grades() -> None:
    assert compute([], 0, []).grade == "A"
    card = compute(["high", "medium", "low"], 0, ["WARN", "INFO"])  # 100-8-3-1-3-1 = 84
    assert (card.score, card.grade) == (84.0, "B")
    assert compute(["critical"], 1, ["FATAL"]).score == 57.0  # 100-15-20-8 -> F
    assert compute(["critical"] * 9, 0, []).score == 0.0
    assert card.vulnerabilities["high"] == 1 and card.checks_failed["WARN"] == 1


@pytest.mark.points(2)
def test_gate_thresholds() -> None:
    assert gate_failures("high", ["medium", "low"], 0, ["medium"]) == []
    assert gate_failures("medium", ["medium"], 0, []) == ["1 vulnerabilities at or above medium"]
    assert gate_failures("critical", [], 2, []) == ["2 secrets"]


@pytest.mark.points(3)
@pytest.mark.hidden
def test_merge_trivy_grype_imgsec_by_id_alias_and_purl() -> None:
    trivy = parse_trivy(json.loads((DATA / "trivy-report.json").read_text()))
    grype = parse_grype(json.loads((DATA / "grype-report.json").read_text()))
    ours = rows_from_imgsec({"vulnerabilities": [
        {"id": "GHSA-35jh-r3h4-6jhm", "aliases": ["CVE-2021-23337"], "severity": "high",
         "fixed": "4.17.21", "purl": "pkg:npm/lodash@4.17.20"}]})
    merged = {(r.vuln_id, r.purl): r for r in merge(ours, trivy, grype)}
    assert sorted(merged) == [
        ("CVE-2021-23337", "pkg:npm/lodash@4.17.20"),
        ("CVE-2021-44906", "pkg:npm/minimist@1.2.5"),
        ("CVE-2023-45853", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"),
        ("CVE-2023-5678", "pkg:deb/debian/openssl@3.0.11-1~deb12u2"),
    ]
    lodash = merged[("CVE-2021-23337", "pkg:npm/lodash@4.17.20")]
    assert lodash.tools == {"imgsec", "trivy", "grype"} and lodash.fixed == "4.17.21"
    assert merged[("CVE-2023-45853", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1")].tools == {
        "trivy", "grype"}
