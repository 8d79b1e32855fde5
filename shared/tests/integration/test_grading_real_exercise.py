"""Grading self-tests on a real exercise: 101-04 envman, on its fast `tests/unit` subset.

Every case grades a copy of the reference that a learner could have handed in; the grader,
uv, the exercise's venv and its pytest plugins all run for real.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from aiinfra_shared.grading import grade, validate_results
from aiinfra_shared.grading.runner import collect_expected
from aiinfra_shared.grading.starter import build_starter
from aiinfra_shared.workspace.exercises import resolve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CODE = "101-04"
SUBSET = ("tests/unit",)
# envman.importers._poetry_constraint is exercised by these unit tests only.
BROKEN_TESTS = [
    "tests/unit/test_importers.py::test_pep621_groups_and_poetry",
    "tests/unit/test_importers.py::test_poetry_optional_dependencies_and_extras_stay_extras",
]
# the first line of the function's solution region: a broken body goes right after it
POETRY_SOLUTION = re.compile(r"(def _poetry_constraint\(.*?\n    # BEGIN SOLUTION[^\n]*\n)", re.S)


@pytest.fixture(scope="module")
def reference(repo_root: Path) -> Path:
    return resolve(repo_root, CODE).path


@pytest.fixture(scope="module")
def expected_points(reference: Path) -> dict[str, float]:
    tests = collect_expected(reference, SUBSET).tests
    return {t["nodeid"]: float(t["points"]) for t in tests}


def _copy(reference: Path, tmp_path: Path) -> Path:
    target = tmp_path / "submission"
    shutil.copytree(reference, target, ignore=shutil.ignore_patterns(
        ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"))
    return target


def _grade(reference: Path, submission: Path, tmp_path: Path) -> dict:
    out = tmp_path / "out"
    grade(reference, submission, out, select=SUBSET)
    payload = json.loads((out / "results.json").read_text())
    assert validate_results(payload) == []
    return payload


def _break_poetry_constraint(submission: Path) -> None:
    module = submission / "src" / "envman" / "importers.py"
    text = module.read_text()
    broken, count = POETRY_SOLUTION.subn(r"\1    return name\n", text, count=1)
    assert count == 1, "envman.importers._poetry_constraint has no solution region"
    module.write_text(broken)


def test_reference_scores_full_and_hides_at_least_a_tenth(
    reference: Path, tmp_path: Path, repo_root: Path, expected_points: dict[str, float]
) -> None:
    payload = _grade(reference, _copy(reference, tmp_path), tmp_path)
    assert payload["max_score"] == sum(expected_points.values()) > 0
    assert payload["score"] == payload["max_score"]
    whole = collect_expected(reference).tests
    hidden = sum(t["points"] for t in whole if t["hidden"])
    assert hidden >= 0.10 * sum(t["points"] for t in whole)


def test_one_broken_function_loses_exactly_its_tests_points(
    reference: Path, tmp_path: Path, expected_points: dict[str, float]
) -> None:
    submission = _copy(reference, tmp_path)
    _break_poetry_constraint(submission)
    payload = _grade(reference, submission, tmp_path)
    failed = [t["name"] for t in payload["tests"] if t["status"] == "failed"]
    assert sorted(failed) == sorted(BROKEN_TESTS)
    assert payload["score"] == payload["max_score"] - sum(expected_points[n] for n in BROKEN_TESTS)


def test_a_conftest_that_skips_everything_changes_nothing(
    reference: Path, tmp_path: Path, expected_points: dict[str, float]
) -> None:
    submission = _copy(reference, tmp_path)
    _break_poetry_constraint(submission)
    (submission / "conftest.py").write_text(
        "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n"
        "    for item in items:\n        item.add_marker(pytest.mark.skip(reason='no'))\n")
    payload = _grade(reference, submission, tmp_path)
    assert payload["max_score"] == sum(expected_points.values())
    assert payload["score"] == payload["max_score"] - sum(expected_points[n] for n in BROKEN_TESTS)


def test_code_that_skips_every_test_scores_zero(reference: Path, tmp_path: Path) -> None:
    submission = _copy(reference, tmp_path)
    package_init = submission / "src" / "envman" / "__init__.py"
    package_init.write_text("import pytest\n\npytest.skip('not graded', allow_module_level=True)"
                            "\n" + package_init.read_text())
    payload = _grade(reference, submission, tmp_path)
    assert payload["max_score"] > 0 and payload["score"] == 0


def test_an_edited_oracle_is_replaced_by_the_reference(
    reference: Path, tmp_path: Path, expected_points: dict[str, float]
) -> None:
    submission = _copy(reference, tmp_path)
    _break_poetry_constraint(submission)
    test_file = submission / BROKEN_TESTS[0].split("::")[0]
    test_file.write_text(test_file.read_text().replace("def test_pep621_groups_and_poetry(",
                                                       "def _disabled(", 1)
                         + "\n\ndef test_pep621_groups_and_poetry():\n    pass\n")
    payload = _grade(reference, submission, tmp_path)
    assert payload["score"] == payload["max_score"] - sum(expected_points[n] for n in BROKEN_TESTS)


def test_the_starter_kit_scores_at_most_fifteen_percent(
    reference: Path, tmp_path: Path, repo_root: Path
) -> None:
    exercise = resolve(repo_root, CODE)
    kit = build_starter(repo_root, exercise, tmp_path / "kit")
    assert kit.region_count >= 8
    payload = _grade(reference, kit.out / exercise.relpath, tmp_path)
    assert payload["max_score"] > 0
    assert payload["score"] <= 0.15 * payload["max_score"], payload["output"]
