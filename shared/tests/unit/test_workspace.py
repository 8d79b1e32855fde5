from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path

import pytest

from aiinfra_shared.grading.results import build_report, render_summary, validate_results
from aiinfra_shared.workspace.exercises import ExerciseNotFoundError, discover, resolve
from aiinfra_shared.workspace.scaffold import ScaffoldError, render_skeleton
from aiinfra_shared.workspace.test_all import SuiteResult, parse_junit, render_table


def _fake_repo(tmp_path: Path) -> Path:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "pyproject.toml").write_text("")
    for rel in ("mod-110-llm/exercise-02-production-rag-system",
                "mod-101-foundations/exercise-04-python-env-manager",
                "mod-101-foundations/exercise-05-no-pyproject-yet"):
        (tmp_path / rel).mkdir(parents=True)
    for rel in ("mod-110-llm/exercise-02-production-rag-system",
                "mod-101-foundations/exercise-04-python-env-manager"):
        (tmp_path / rel / "pyproject.toml").write_text(
            '[project]\nname = "ragkit"\n[project.scripts]\nragkit = "ragkit.cli:main"\n')
    return tmp_path


def test_discover_and_resolve(tmp_path: Path) -> None:
    root = _fake_repo(tmp_path)
    assert [ex.code for ex in discover(root)] == ["101-04", "110-02"]
    assert resolve(root, "110-02").relpath == "mod-110-llm/exercise-02-production-rag-system"
    assert resolve(root, "mod-101-foundations/exercise-04-python-env-manager/").code == "101-04"
    assert resolve(root, "110-02").scripts == ["ragkit"]
    with pytest.raises(ExerciseNotFoundError, match="known: 101-04, 110-02"):
        resolve(root, "999-01")


def test_scaffold_rejects_bad_names_and_writes_nothing(tmp_path: Path) -> None:
    root = _fake_repo(tmp_path)
    before = sorted(p.as_posix() for p in root.rglob("*"))
    for path, pkg in [("exercise-01-x", "x"), ("mod-101-foundations/exercise-09-x", "Bad-Pkg"),
                      ("mod-110-llm/exercise-02-production-rag-system", "ragkit")]:
        with pytest.raises(ScaffoldError):
            render_skeleton(root, path, pkg, lock=False)
    assert sorted(p.as_posix() for p in root.rglob("*")) == before


def test_scaffold_renders_every_token(tmp_path: Path) -> None:
    root = _fake_repo(tmp_path)
    target = render_skeleton(root, "mod-104-kubernetes/exercise-06-k8s-operator", "kop",
                             lock=False)
    for name in ("README.md", "pyproject.toml", "Makefile", "Dockerfile", ".dockerignore",
                 "src/kop/cli.py", "src/kop/config.py", "tests/unit/test_cli.py",
                 "docs/architecture.md"):
        text = (target / name).read_text()
        assert not re.search(r"__[A-Z]+__", text), name
    project = tomllib.loads((target / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"kop": "kop.cli:main"}
    assert "104-06 K8s Operator" in (target / "README.md").read_text()
    readme = (target / "README.md").read_text()
    for section in ("Overview", "Quickstart", "Usage", "Architecture", "Configuration",
                    "Testing", "Benchmarks", "Learning objectives", "What is real"):
        assert f"## {section}" in readme


def test_parse_junit_and_table(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    junit.write_text(
        '<testsuites><testsuite tests="5" failures="1" errors="1" skipped="1">'
        "</testsuite></testsuites>"
    )
    assert parse_junit(junit) == (2, 1, 1, 1)
    assert parse_junit(tmp_path / "absent.xml") == (0, 0, 0, 0)
    ok = SuiteResult("101-04", "p", 10, 0, 0, 1, 12.0, 0)
    empty = SuiteResult("101-05", "q", 0, 0, 0, 0, 1.0, 5, "no tests collected")
    table = render_table([ok, empty])
    assert ok.ok and not empty.ok
    assert "FAIL no tests collected" in table
    total = next(line for line in table.splitlines() if line.startswith("total"))
    assert total.split()[:4] == ["total", "10", "0", "1"]


def test_build_report_scores_expected_tests() -> None:
    expected = [{"nodeid": "t.py::a", "points": 2, "hidden": False},
                {"nodeid": "t.py::b", "points": 1, "hidden": True},
                {"nodeid": "u.py::c", "points": 4, "hidden": False},
                {"nodeid": "t.py::gpu", "points": 1, "hidden": True}]
    raw = [{"nodeid": "t.py::a", "outcome": "passed"},
           {"nodeid": "t.py::b", "outcome": "failed", "message": "assert 1 == 2"},
           {"nodeid": "u.py", "outcome": "error", "message": "collection error: ImportError"},
           {"nodeid": "t.py::gpu", "outcome": "skipped", "message": "needs 1 CUDA GPU(s)",
            "sanctioned_skip": "needs 1 CUDA GPU(s), found 0"}]
    report = build_report("101-04", expected, raw, 1.5)
    payload = report.as_gradescope()
    assert validate_results(payload) == []
    assert (payload["score"], payload["max_score"]) == (2, 7)
    by_name = {t["name"]: t for t in payload["tests"]}
    assert by_name["u.py::c"]["output"].startswith("collection error")
    assert by_name["t.py::b"]["visibility"] == "after_due_date"
    assert "t.py::gpu" not in by_name and "1 test(s) skipped" in payload["output"]
    assert "| 1 hidden test(s) | 0/1 |" in render_summary(report)
    assert "`t.py::b` (hidden)" in render_summary(report, learner=False)


def test_undeclared_skips_and_xfails_score_zero() -> None:
    expected = [{"nodeid": "t.py::skip", "points": 3},
                {"nodeid": "t.py::xfail", "points": 2},
                {"nodeid": "t.py::marked", "points": 1, "xfail": True}]
    raw = [{"nodeid": "t.py::skip", "outcome": "skipped", "message": "not today"},
           {"nodeid": "t.py::xfail", "outcome": "xfailed", "message": "flaky"},
           {"nodeid": "t.py::marked", "outcome": "xfailed", "message": "known bug"}]
    report = build_report("101-04", expected, raw, 0.1)
    by_name = {t.name: t for t in report.tests}
    assert (report.score, report.max_score) == (1, 6)
    assert by_name["t.py::skip"].status == "failed"
    assert "not today" in by_name["t.py::skip"].output
    assert "does not declare" in by_name["t.py::xfail"].output
    assert by_name["t.py::marked"].status == "passed"
    assert report.skipped == []


def test_learner_report_counts_hidden_tests_without_naming_them() -> None:
    expected = [{"nodeid": "t.py::seen", "points": 2},
                {"nodeid": "t.py::secret_one", "points": 3, "hidden": True},
                {"nodeid": "t.py::secret_two", "points": 1, "hidden": True}]
    raw = [{"nodeid": "t.py::seen", "outcome": "passed"},
           {"nodeid": "t.py::secret_one", "outcome": "failed", "message": "leaky detail"},
           {"nodeid": "t.py::secret_two", "outcome": "passed"}]
    learner = build_report("101-04", expected, raw, 0.1).as_learner_gradescope()
    assert validate_results(learner) == []
    text = json.dumps(learner)
    assert "secret" not in text and "leaky detail" not in text
    assert learner["score"] == 3 and learner["max_score"] == 6
    folded = learner["tests"][-1]
    assert folded["name"].startswith("2 hidden test(s)")
    assert (folded["score"], folded["max_score"], folded["status"]) == (1, 4, "failed")


def test_validate_results_reports_problems() -> None:
    problems = validate_results({"score": "10", "tests": [{"name": "x", "status": "ok"}]})
    assert "top-level 'score' has type str" in problems
    assert "missing top-level 'execution_time'" in problems
    assert "tests[0] missing 'max_score'" in problems
    assert "tests[0].status is 'ok'" in problems


def _suite_folder(root: Path, recipe: str) -> Path:
    folder = root / "suite"
    folder.mkdir()
    (folder / "Makefile").write_text(f"test:\n\t{recipe}\n")
    return folder


def test_a_suite_past_its_timeout_is_stopped_and_fails(tmp_path: Path) -> None:
    from aiinfra_shared.workspace.test_all import run_suite

    folder = _suite_folder(tmp_path, "sleep 60")
    started = time.monotonic()
    result = run_suite("hang", folder, tmp_path / "reports", tmp_path, timeout=1.0)
    assert time.monotonic() - started < 30
    assert not result.ok and result.exit_code == 124
    assert "suite timeout" in result.note
    assert "stopped after 1s" in render_table([result])


def test_processes_a_suite_leaves_behind_are_reported_and_stopped(tmp_path: Path) -> None:
    from aiinfra_shared.workspace.test_all import _tagged_processes, run_suite

    folder = _suite_folder(tmp_path, "setsid sleep 300 > /dev/null 2>&1 < /dev/null &")
    result = run_suite("leaky", folder, tmp_path / "reports", tmp_path, timeout=30)
    # setsid may still be on its way out when the suite ends: the sleep is what must be found
    assert any("sleep 300" in line for line in result.leftovers), result.leftovers
    assert "process(es) running (stopped now)" in render_table([result])
    assert _tagged_processes("leaky") == {}  # and they were stopped


def test_summary_names_the_slowest_suites_and_warns_about_slow_ones() -> None:
    results = [SuiteResult(f"10{i}-0{i}", "p", 1, 0, 0, 0, float(s), 0)
               for i, s in enumerate([10, 200, 30, 40, 50, 60])]
    table = render_table(results)
    slowest = table.split("slowest suites:\n", 1)[1].splitlines()[:5]
    assert [line.split()[0] for line in slowest] == ["101-01", "105-05", "104-04", "103-03",
                                                     "102-02"]
    assert "51.3%" in slowest[0]  # 200 of 390 s
    assert "warning: 101-01 took 200 s" in table
