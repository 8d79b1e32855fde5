"""Turn raw pytest outcomes into a Gradescope `results.json`, JUnit and a markdown summary.

Pure functions: no processes, no file system except the explicit writers at the bottom.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json, atomic_write_text

MAX_OUTPUT_CHARS = 4000
_Kind = type | tuple[type, ...]
_NUMBER = (int, float)
REQUIRED_TOP: dict[str, _Kind] = {
    "score": _NUMBER, "execution_time": _NUMBER, "output": str, "tests": list,
}
REQUIRED_TEST: dict[str, _Kind] = {
    "name": str, "score": _NUMBER, "max_score": _NUMBER, "status": str, "output": str,
    "visibility": str,
}
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


@dataclass
class TestResult:
    name: str
    max_score: float
    score: float
    status: str  # "passed" | "failed"
    output: str = ""
    hidden: bool = False

    def as_gradescope(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "output": self.output[-MAX_OUTPUT_CHARS:],
            "visibility": "after_due_date" if self.hidden else "visible",
        }


@dataclass
class GradeReport:
    exercise: str
    tests: list[TestResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    execution_time: float = 0.0
    problem: str = ""  # set when the submission could not be graded (install failure...)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 3)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 3)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    def output_text(self) -> str:
        passed = sum(t.status == "passed" for t in self.tests)
        lines = [f"Exercise {self.exercise}: {self.score:g}/{self.max_score:g} points "
                 f"({self.percent:.1f}%), {passed}/{len(self.tests)} tests passed."]
        if self.problem:
            lines.append(self.problem)
        if self.skipped:
            lines.append(f"{len(self.skipped)} test(s) skipped on the grading machine "
                         "(not counted): " + ", ".join(name for name, _ in self.skipped))
        return "\n".join(lines)

    def as_gradescope(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 2),
            "output": self.output_text(),
            "visibility": "visible",
            "tests": [t.as_gradescope() for t in self.tests],
        }


def build_report(exercise: str, expected: list[dict[str, Any]], raw: list[dict[str, Any]],
                 execution_time: float) -> GradeReport:
    """Score every EXPECTED test (from the reference collection) by its outcome in `raw`.

    A reference test that did not run in the submission (its module failed to import, say)
    scores 0 with the collection error as its output; skipped tests are left out of the score.
    """
    by_id = {entry["nodeid"]: entry for entry in raw}
    collect_errors = {entry["nodeid"]: entry for entry in raw
                      if entry.get("message", "").startswith("collection error")}
    report = GradeReport(exercise=exercise, execution_time=execution_time)
    for test in expected:
        nodeid = test["nodeid"]
        points = float(test.get("points", 1.0))
        hidden = bool(test.get("hidden", False))
        entry = by_id.get(nodeid)
        if entry is None:
            module = nodeid.split("::", 1)[0]
            error = collect_errors.get(module) or next(iter(collect_errors.values()), None)
            message = error["message"] if error else "test did not run in the submission"
            report.tests.append(TestResult(nodeid, points, 0.0, "failed", message, hidden))
        elif entry["outcome"] == "skipped":
            report.skipped.append((nodeid, entry.get("message", "")))
        elif entry["outcome"] == "passed":
            report.tests.append(TestResult(nodeid, points, points, "passed", "", hidden))
        else:
            report.tests.append(
                TestResult(nodeid, points, 0.0, "failed", entry.get("message", ""), hidden)
            )
    return report


def failed_report(exercise: str, expected: list[dict[str, Any]], problem: str,
                  execution_time: float) -> GradeReport:
    """Every expected test fails with `problem` (e.g. the submission does not install)."""
    report = GradeReport(exercise=exercise, execution_time=execution_time, problem=problem)
    for test in expected:
        report.tests.append(TestResult(test["nodeid"], float(test.get("points", 1.0)), 0.0,
                                       "failed", problem, bool(test.get("hidden", False))))
    return report


def validate_results(payload: dict[str, Any]) -> list[str]:
    """Problems with a results.json payload against the Gradescope field list ([] if fine)."""
    problems = []
    for key, kind in REQUIRED_TOP.items():
        if key not in payload:
            problems.append(f"missing top-level '{key}'")
        elif not isinstance(payload[key], kind):
            problems.append(f"top-level '{key}' has type {type(payload[key]).__name__}")
    for index, test in enumerate(payload.get("tests") or []):
        for key, kind in REQUIRED_TEST.items():
            if key not in test:
                problems.append(f"tests[{index}] missing '{key}'")
            elif not isinstance(test[key], kind):
                problems.append(f"tests[{index}].{key} has type {type(test[key]).__name__}")
        if test.get("status") not in {"passed", "failed"}:
            problems.append(f"tests[{index}].status is {test.get('status')!r}")
        if test.get("visibility") not in VISIBILITIES:
            problems.append(f"tests[{index}].visibility is {test.get('visibility')!r}")
        if isinstance(test.get("score"), int | float) and isinstance(
            test.get("max_score"), int | float
        ) and test["score"] > test["max_score"]:
            problems.append(f"tests[{index}] score exceeds max_score")
    return problems


def render_summary(report: GradeReport) -> str:
    """Markdown for a GitHub job summary; hidden tests are counted, not named."""
    lines = [
        f"## Grade for exercise {report.exercise}: {report.score:g} / {report.max_score:g} "
        f"({report.percent:.1f}%)",
        "",
    ]
    if report.problem:
        lines += [f"> {report.problem}", ""]
    lines += ["| test | points | result |", "|---|---:|---|"]
    hidden = [t for t in report.tests if t.hidden]
    for test in report.tests:
        if test.hidden:
            continue
        mark = "passed" if test.status == "passed" else "**failed**"
        lines.append(f"| `{test.name}` | {test.score:g}/{test.max_score:g} | {mark} |")
    if hidden:
        got = sum(t.score for t in hidden)
        total = sum(t.max_score for t in hidden)
        lines.append(f"| {len(hidden)} hidden test(s) | {got:g}/{total:g} | shown after the "
                     "due date |")
    if report.skipped:
        lines += ["", f"{len(report.skipped)} test(s) skipped on the grading machine "
                  "(not counted)."]
    return "\n".join(lines) + "\n"


def render_junit(report: GradeReport) -> str:
    """A JUnit XML document for reports that never reached pytest (e.g. install failure)."""
    suite = ET.Element("testsuite", name=f"grade-{report.exercise}",
                       tests=str(len(report.tests)),
                       failures=str(sum(t.status == "failed" for t in report.tests)),
                       time=f"{report.execution_time:.2f}")
    for test in report.tests:
        case = ET.SubElement(suite, "testcase", name=test.name)
        if test.status == "failed":
            failure = ET.SubElement(case, "failure", message=test.output[:200])
            failure.text = test.output
    return str(ET.tostring(suite, encoding="unicode"))


def write_outputs(report: GradeReport, out_dir: Path, junit_from_pytest: Path | None) -> None:
    """results.json, junit.xml (pytest's own when it ran) and summary.md, each atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "results.json", report.as_gradescope())
    if junit_from_pytest is not None and junit_from_pytest.is_file():
        atomic_write_text(out_dir / "junit.xml", junit_from_pytest.read_text())
    else:
        atomic_write_text(out_dir / "junit.xml", render_junit(report))
    atomic_write_text(out_dir / "summary.md", render_summary(report))
