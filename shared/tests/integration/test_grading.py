"""Grading self-tests on a sample exercise scaffolded from the real skeleton.

The sample lives in a temporary monorepo (root pyproject.toml + a link to this shared/), so the
scaffolder, `uv lock`, the pytest plugin and the grader all run for real.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aiinfra_shared.grading import grade, validate_results
from aiinfra_shared.workspace.scaffold import render_skeleton

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OPS = '''\
def add(a: float, b: float) -> float:
    return a + b


def mul(a: float, b: float) -> float:
    return a * b


def div(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b
'''

OPS_TESTS = '''\
import pytest

from calc.ops import add, div, mul


@pytest.mark.points(2)
def test_add() -> None:
    assert add(2, 3) == 5


@pytest.mark.points(3)
def test_mul() -> None:
    assert mul(4, 5) == 20


@pytest.mark.points(1)
@pytest.mark.hidden
def test_div() -> None:
    assert div(9, 3) == 3


def test_div_by_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        div(1, 0)
'''
# 2 skeleton CLI tests (1 point each) + 2 + 3 + 1 + 1
TOTAL_POINTS = 9.0
EXERCISE = "mod-101-foundations/exercise-01-calculator"


@pytest.fixture(scope="module")
def sample_repo(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    root = tmp_path_factory.mktemp("monorepo")
    shutil.copy2(repo_root / "pyproject.toml", root / "pyproject.toml")
    (root / "shared").symlink_to(repo_root / "shared", target_is_directory=True)
    exercise = render_skeleton(root, EXERCISE, "calc", title="Calculator")
    (exercise / "src" / "calc" / "ops.py").write_text(OPS)
    (exercise / "tests" / "unit" / "test_ops.py").write_text(OPS_TESTS)
    return root


def _submission(sample_repo: Path, tmp_path: Path, broken: str | None = None) -> Path:
    """A learner's copy of the exercise; `broken` replaces ops.py's text if given."""
    target = tmp_path / "submission"
    shutil.copytree(sample_repo / EXERCISE, target,
                    ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    if broken is not None:
        (target / "src" / "calc" / "ops.py").write_text(broken)
    return target


def _load(out: Path) -> dict:
    payload = json.loads((out / "results.json").read_text())
    assert validate_results(payload) == []
    return payload


def test_reference_against_itself_scores_full(sample_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = grade(sample_repo / EXERCISE, _submission(sample_repo, tmp_path), out)
    payload = _load(out)
    assert report.max_score == TOTAL_POINTS
    assert payload["score"] == TOTAL_POINTS
    assert all(t["status"] == "passed" for t in payload["tests"])
    hidden = [t for t in payload["tests"] if t["visibility"] == "after_due_date"]
    assert [t["name"].split("::")[-1] for t in hidden] == ["test_div"]
    junit = ET.parse(out / "junit.xml").getroot()
    assert len(list(junit.iter("testcase"))) == 6
    summary = (out / "summary.md").read_text()
    assert "9 / 9" in summary and "::test_div` (hidden)" in summary  # instructor: named
    learner_summary = (out / "learner" / "summary.md").read_text()
    assert "9 / 9" in learner_summary and "test_div`" not in learner_summary
    learner = json.loads((out / "learner" / "results.json").read_text())
    assert validate_results(learner) == []
    assert "test_div\"" not in json.dumps(learner) and learner["score"] == TOTAL_POINTS
    assert "passed" in (out / "pytest.log").read_text()


def test_broken_function_loses_exactly_its_points(sample_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    broken = OPS.replace("return a * b", "return a + b")
    grade(sample_repo / EXERCISE, _submission(sample_repo, tmp_path, broken), out)
    payload = _load(out)
    assert payload["score"] == TOTAL_POINTS - 3
    failed = [t["name"].split("::")[-1] for t in payload["tests"] if t["status"] == "failed"]
    assert failed == ["test_mul"]


def test_missing_module_fails_only_the_tests_that_import_it(
    sample_repo: Path, tmp_path: Path
) -> None:
    submission = _submission(sample_repo, tmp_path)
    (submission / "src" / "calc" / "ops.py").unlink()
    out = tmp_path / "out"
    grade(sample_repo / EXERCISE, submission, out)
    payload = _load(out)
    assert payload["score"] == 2  # the two skeleton CLI tests still pass
    ops_tests = [t for t in payload["tests"] if "test_ops" in t["name"]]
    assert len(ops_tests) == 4
    assert all(t["status"] == "failed" and "collection error" in t["output"]
               for t in ops_tests)


def test_submission_that_does_not_install_scores_zero(sample_repo: Path, tmp_path: Path) -> None:
    submission = _submission(sample_repo, tmp_path)
    pyproject = submission / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        '"aiinfra-shared",', '"aiinfra-shared",\n  "no-such-package-aiinfra-test==9.9.9",'))
    out = tmp_path / "out"
    report = grade(sample_repo / EXERCISE, submission, out)
    payload = _load(out)
    assert payload["score"] == 0
    assert report.max_score == TOTAL_POINTS
    assert "does not install" in payload["output"]
    assert ET.parse(out / "junit.xml").getroot().get("failures") == str(len(payload["tests"]))


def test_grade_cli_writes_results_and_exit_code(sample_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-out"
    exe = Path(sys.executable).parent / "aiinfra-grade"
    result = subprocess.run(
        [str(exe), "--exercise", str(sample_repo / EXERCISE), "--submission",
         str(_submission(sample_repo, tmp_path)), "--out", str(out), "--fail-under", "100"],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "9/9 points" in result.stdout
    assert _load(out)["score"] == TOTAL_POINTS

    missing = subprocess.run(
        [str(exe), "--exercise", str(sample_repo / EXERCISE), "--submission",
         str(tmp_path / "nope")], capture_output=True, text=True, check=False, timeout=600,
    )
    assert missing.returncode == 4  # ExitCode.NOT_FOUND
    assert missing.stderr.startswith("error: submission") and "Traceback" not in missing.stderr


# --------------------------------------------------------------------------- integrity

SKIP_ALL_CONFTEST = """\
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.skip(reason="learner says no"))
"""


def _score_of(sample_repo: Path, submission: Path, tmp_path: Path) -> dict:
    out = tmp_path / "out"
    grade(sample_repo / EXERCISE, submission, out)
    return _load(out)


@pytest.mark.parametrize("where", ["conftest.py", "src/conftest.py"])
def test_a_submission_conftest_that_skips_everything_has_no_effect(
    sample_repo: Path, tmp_path: Path, where: str
) -> None:
    submission = _submission(sample_repo, tmp_path, OPS.replace("a * b", "a + b"))
    (submission / where).write_text(SKIP_ALL_CONFTEST)
    payload = _score_of(sample_repo, submission, tmp_path)
    assert payload["score"] == TOTAL_POINTS - 3  # graded normally: only test_mul fails
    assert "learner says no" not in json.dumps(payload)


def test_submission_pytest_settings_and_plugins_are_ignored(
    sample_repo: Path, tmp_path: Path
) -> None:
    submission = _submission(sample_repo, tmp_path)
    # Its own pytest settings, in every file pytest reads them from ...
    pyproject = submission / "pyproject.toml"
    text = pyproject.read_text().replace(
        "[tool.pytest.ini_options]",
        '[project.entry-points.pytest11]\nsneaky = "calc.sneaky"\n\n[tool.pytest.ini_options]')
    pyproject.write_text(text.replace('addopts = "', 'addopts = "-k nothing_matches '))
    (submission / "pytest.ini").write_text("[pytest]\naddopts = -k nothing_matches\n")
    (submission / "tox.ini").write_text("[pytest]\naddopts = -k nothing_matches\n")
    # ... and a pytest11 plugin in its package that skips every test.
    (submission / "src" / "calc" / "sneaky.py").write_text(SKIP_ALL_CONFTEST)
    (submission / "src" / "calc" / "ops.py").write_text(OPS.replace("a * b", "a + b"))
    payload = _score_of(sample_repo, submission, tmp_path)
    assert payload["score"] == TOTAL_POINTS - 3
    assert len(payload["tests"]) == 6


def test_a_skip_in_the_code_under_test_scores_zero(sample_repo: Path, tmp_path: Path) -> None:
    skipping = OPS.replace("    return a * b", "    import pytest\n\n    pytest.skip('hard')")
    payload = _score_of(sample_repo, _submission(sample_repo, tmp_path, skipping), tmp_path)
    assert payload["score"] == TOTAL_POINTS - 3
    mul = next(t for t in payload["tests"] if t["name"].endswith("::test_mul"))
    assert mul["status"] == "failed" and "hard" in mul["output"]


def test_reference_owned_files_replace_the_submissions(sample_repo: Path, tmp_path: Path) -> None:
    submission = _submission(sample_repo, tmp_path, OPS.replace("a * b", "a + b"))
    tests = submission / "tests" / "unit" / "test_ops.py"
    tests.write_text(tests.read_text().replace("== 20", "== 9"))  # edits the oracle
    (submission / "tests" / "unit" / "test_extra.py").write_text(
        "import pytest\n\n\n@pytest.mark.points(50)\ndef test_free():\n    assert True\n")
    payload = _score_of(sample_repo, submission, tmp_path)
    assert payload["score"] == TOTAL_POINTS - 3 and payload["max_score"] == TOTAL_POINTS
    assert not any("test_extra" in t["name"] for t in payload["tests"])


def test_declared_oracles_are_overlaid(tmp_path: Path) -> None:
    from aiinfra_shared.grading.runner import overlay_reference_files

    reference, target = tmp_path / "ref", tmp_path / "sub"
    for root, value in ((reference, "expected"), (target, "edited")):
        (root / "deploy" / "tests").mkdir(parents=True)
        (root / "deploy" / "tests" / "rules_test.yml").write_text(value)
        (root / "deploy" / "rules.yml").write_text(f"rules {value}")
    (target / "deploy" / "tests" / "extra_test.yml").write_text("learner's own")
    copied = overlay_reference_files(reference, target, ["tests/**", "deploy/tests/*.yml"])
    assert copied == ["deploy/tests/rules_test.yml"]
    assert (target / "deploy" / "tests" / "rules_test.yml").read_text() == "expected"
    assert not (target / "deploy" / "tests" / "extra_test.yml").exists()
    assert (target / "deploy" / "rules.yml").read_text() == "rules edited"  # learner's work


# --------------------------------------------------------------------------- starter kits


@pytest.fixture
def marked_repo(tmp_path: Path, repo_root: Path) -> Path:
    root = tmp_path / "monorepo"
    root.mkdir()
    shutil.copy2(repo_root / "pyproject.toml", root / "pyproject.toml")
    (root / "shared").symlink_to(repo_root / "shared", target_is_directory=True)
    exercise = render_skeleton(root, EXERCISE, "calc", title="Calculator", lock=False)
    marked = OPS.replace("    return a * b",
                         "    # BEGIN SOLUTION: multiply the two numbers\n    return a * b\n"
                         "    # END SOLUTION")
    (exercise / "src" / "calc" / "ops.py").write_text(marked)
    (exercise / "tests" / "unit" / "test_ops.py").write_text(OPS_TESTS)
    return root


def _aiinfra(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "aiinfra"
    return subprocess.run([str(exe), *args], cwd=root, capture_output=True, text=True,
                          check=False, timeout=120)


def test_starter_cli_builds_a_kit_without_solutions_or_hidden_tests(
    marked_repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "kit"
    result = _aiinfra(marked_repo, "starter", "--exercise", "101-01", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "1 solution regions" in result.stdout and "1 hidden tests removed" in result.stdout
    kit = out / EXERCISE
    ops = (kit / "src" / "calc" / "ops.py").read_text()
    assert 'raise NotImplementedError("multiply the two numbers")' in ops
    assert "return a * b" not in ops and "return a + b" in ops  # only the region changed
    tests = (kit / "tests" / "unit" / "test_ops.py").read_text()
    assert "test_div(" not in tests and "test_mul(" in tests
    assert (out / "shared" / "pyproject.toml").is_file() and (out / "pyproject.toml").is_file()
    assert "src/calc/ops.py" in (kit / "STARTER.md").read_text()
    again = _aiinfra(marked_repo, "starter", "--exercise", "101-01", "--out", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_learner_files_are_blanked_and_listed(marked_repo: Path, tmp_path: Path) -> None:
    exercise = marked_repo / EXERCISE
    module = exercise / "terraform" / "modules" / "bucket"
    module.mkdir(parents=True)
    (module / "main.tf").write_text('resource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n')
    (module / "variables.tf").write_text('variable "name" {\n  type = string\n}\n')
    pyproject = exercise / "pyproject.toml"
    text = pyproject.read_text()
    assert "learner-files = []" in text  # the skeleton declares both lists
    pyproject.write_text(text.replace("learner-files = []",
                                      'learner-files = ["terraform/modules/*/main.tf"]'))
    out = tmp_path / "kit"
    result = _aiinfra(marked_repo, "starter", "--exercise", "101-01", "--out", str(out))
    assert result.returncode == 0, result.stderr
    kit_module = out / EXERCISE / "terraform" / "modules" / "bucket"
    assert "aws_s3_bucket" not in (kit_module / "main.tf").read_text()
    assert (kit_module / "main.tf").read_text().startswith("# Write this file")
    assert "variable" in (kit_module / "variables.tf").read_text()  # the interface stays
    assert "terraform/modules/bucket/main.tf" in (out / EXERCISE / "STARTER.md").read_text()
    pyproject.write_text(pyproject.read_text().replace("*/main.tf", "*/absent.tf"))
    missing = _aiinfra(marked_repo, "starter", "--exercise", "101-01", "--out",
                       str(tmp_path / "kit2"))
    assert missing.returncode == 2 and "matches no file" in missing.stderr


def test_starter_with_malformed_markers_is_one_line_and_writes_nothing(
    marked_repo: Path, tmp_path: Path
) -> None:
    ops = marked_repo / EXERCISE / "src" / "calc" / "ops.py"
    ops.write_text(ops.read_text().replace("    # END SOLUTION\n", ""))
    out = tmp_path / "kit"
    result = _aiinfra(marked_repo, "starter", "--exercise", "101-01", "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "src/calc/ops.py:" in lines[0] and "never closed" in lines[0]
    assert not out.exists()
    assert not list(tmp_path.glob(".kit.*"))  # no staging folder left behind
    unknown = _aiinfra(marked_repo, "starter", "--exercise", "999-99", "--out", str(out))
    assert unknown.returncode == 4 and "no exercise '999-99'" in unknown.stderr
