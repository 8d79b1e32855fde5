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
class Skipped:
    """A test skipped for a reason the grading machine declares (not counted)."""

    name: str
    reason: str
    hidden: bool = False


@dataclass
class GradeReport:
    exercise: str
    tests: list[TestResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
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

    def output_text(self, learner: bool = False) -> str:
        """The overall message; `learner=True` never names a hidden test."""
        passed = sum(t.status == "passed" for t in self.tests)
        lines = [f"Exercise {self.exercise}: {self.score:g}/{self.max_score:g} points "
                 f"({self.percent:.1f}%), {passed}/{len(self.tests)} tests passed."]
        if self.problem:
            lines.append(self.problem)
        if self.skipped:
            names = [s.name for s in self.skipped if not (learner and s.hidden)]
            hidden = len(self.skipped) - len(names)
            shown = ", ".join(names) + (f" and {hidden} hidden" if hidden else "")
            lines.append(f"{len(self.skipped)} test(s) skipped on the grading machine for a "
                         f"declared reason (no GPU, external tool; not counted): {shown}")
        return "\n".join(lines)

    def as_gradescope(self) -> dict[str, Any]:
        """The full report (instructors): every test, hidden ones `after_due_date`."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 2),
            "output": self.output_text(),
            "visibility": "visible",
            "tests": [t.as_gradescope() for t in self.tests],
        }

    def as_learner_gradescope(self) -> dict[str, Any]:
        """The learner-safe report: hidden tests folded into one unnamed entry, no output."""
        visible = [t.as_gradescope() for t in self.tests if not t.hidden]
        hidden = [t for t in self.tests if t.hidden]
        if hidden:
            got = round(sum(t.score for t in hidden), 3)
            total = round(sum(t.max_score for t in hidden), 3)
            visible.append({
                "name": f"{len(hidden)} hidden test(s): results after the due date",
                "score": got, "max_score": total,
                "status": "passed" if got == total else "failed",
                "output": "", "visibility": "visible",
            })
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 2),
            "output": self.output_text(learner=True),
            "visibility": "visible",
            "tests": visible,
        }


def _score_entry(test: dict[str, Any], entry: dict[str, Any], report: GradeReport) -> None:
    """Turn one test's raw outcome into a TestResult (or a declared skip)."""
    nodeid = test["nodeid"]
    points = float(test.get("points", 1.0))
    hidden = bool(test.get("hidden", False))
    outcome, message = entry["outcome"], entry.get("message", "")
    if outcome == "skipped":
        if entry.get("sanctioned_skip"):
            report.skipped.append(Skipped(nodeid, entry["sanctioned_skip"], hidden))
            return
        message = (f"skipped ({message or 'no reason'}): only the grading machine's declared "
                   "skips (gpu, external) are allowed; any other skip scores 0")
        outcome = "failed"
    elif outcome in {"xfailed", "xpassed"}:
        if test.get("xfail"):
            outcome = "passed"  # the reference expects this failure
        else:
            message = (f"xfail ({message}) that the reference test does not declare: "
                       "scores 0")
            outcome = "failed"
    if outcome == "passed":
        report.tests.append(TestResult(nodeid, points, points, "passed", "", hidden))
    else:
        report.tests.append(TestResult(nodeid, points, 0.0, "failed", message, hidden))


def build_report(exercise: str, expected: list[dict[str, Any]], raw: list[dict[str, Any]],
                 execution_time: float) -> GradeReport:
    """Score every EXPECTED test (from the reference collection) by its outcome in `raw`.

    A reference test that did not run in the submission (its module failed to import, say)
    scores 0 with the collection error as its output. A skip counts only when the plugin
    itself declared it (no GPU, external tool): then it leaves score and maximum alike; any
    other skip, and an xfail the reference does not mark, scores 0.
    """
    by_id = {entry["nodeid"]: entry for entry in raw}
    collect_errors = {entry["nodeid"]: entry for entry in raw
                      if entry.get("message", "").startswith("collection error")}
    report = GradeReport(exercise=exercise, execution_time=execution_time)
    for test in expected:
        entry = by_id.get(test["nodeid"])
        if entry is None:
            module = test["nodeid"].split("::", 1)[0]
            error = collect_errors.get(module) or next(iter(collect_errors.values()), None)
            message = error["message"] if error else "test did not run in the submission"
            entry = {"outcome": "failed", "message": message}
        _score_entry(test, entry, report)
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


def render_summary(report: GradeReport, learner: bool = True) -> str:
    """Markdown for a GitHub job summary; with `learner`, hidden tests are counted, not named."""
    lines = [
        f"## Grade for exercise {report.exercise}: {report.score:g} / {report.max_score:g} "
        f"({report.percent:.1f}%)",
        "",
    ]
    if report.problem:
        lines += [f"> {line}" for line in report.problem.splitlines()] + [""]
    lines += ["| test | points | result |", "|---|---:|---|"]
    hidden = [t for t in report.tests if t.hidden]
    for test in report.tests:
        if test.hidden and learner:
            continue
        mark = "passed" if test.status == "passed" else "**failed**"
        label = " (hidden)" if test.hidden else ""
        lines.append(f"| `{test.name}`{label} | {test.score:g}/{test.max_score:g} | {mark} |")
    if hidden and learner:
        got = sum(t.score for t in hidden)
        total = sum(t.max_score for t in hidden)
        lines.append(f"| {len(hidden)} hidden test(s) | {got:g}/{total:g} | shown after the "
                     "due date |")
    if report.skipped:
        lines += ["", f"{len(report.skipped)} test(s) skipped on the grading machine for a "
                  "declared reason (not counted)."]
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


LEARNER_DIR = "learner"


def write_outputs(report: GradeReport, out_dir: Path, junit_from_pytest: Path | None,
                  log: str = "") -> None:
    """Write the instructor's full report and the learner-safe one (`learner/`).

    out_dir/: results.json (every test), junit.xml, summary.md (hidden tests named),
    pytest.log. out_dir/learner/: results.json and summary.md with hidden tests counted but
    never named and without their output. Each file is written atomically.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "results.json", report.as_gradescope())
    if junit_from_pytest is not None and junit_from_pytest.is_file():
        atomic_write_text(out_dir / "junit.xml", junit_from_pytest.read_text())
    else:
        atomic_write_text(out_dir / "junit.xml", render_junit(report))
    atomic_write_text(out_dir / "summary.md", render_summary(report, learner=False))
    atomic_write_text(out_dir / "pytest.log", log)
    learner = out_dir / LEARNER_DIR
    learner.mkdir(exist_ok=True)
    atomic_write_json(learner / "results.json", report.as_learner_gradescope())
    atomic_write_text(learner / "summary.md", render_summary(report, learner=True))
