"""The pytest plugin's markers and skip/fail rules, run in an inner pytest (pytester)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SAMPLE = '''
import pytest
from aiinfra_shared.testing.plugin import require_or_skip
from aiinfra_shared.testing import require_binary

@pytest.mark.points(3)
def test_weighted():
    assert True

@pytest.mark.hidden
def test_hidden_fails():
    assert 1 == 2

@pytest.mark.gpu
def test_needs_gpu():
    assert False, "must have been skipped"

@pytest.mark.external(reason="needs a cloud account")
def test_external_without_requires():
    assert False

@pytest.mark.external(reason="needs ls", requires=["ls"])
def test_external_with_present_tool():
    assert True

def test_missing_binary():
    require_or_skip(lambda: require_binary("definitely-not-installed-xyz"))
'''


def test_markers_and_grading_records(pytester: pytest.Pytester,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("AIINFRA_RUN_EXTERNAL", raising=False)
    pytester.makepyfile(test_sample=SAMPLE)
    results = Path(pytester.path) / "results.json"
    collected = Path(pytester.path) / "collected.json"
    outcome = pytester.runpytest("--strict-markers",
                                 f"--aiinfra-results={results}",
                                 f"--aiinfra-collect={collected}")
    outcome.assert_outcomes(passed=2, failed=1, skipped=3)
    records = {r["nodeid"].split("::")[-1]: r for r in json.loads(results.read_text())["tests"]}
    assert records["test_weighted"]["points"] == 3.0
    assert records["test_hidden_fails"]["hidden"] is True
    assert records["test_hidden_fails"]["outcome"] == "failed"
    assert "CUDA" in records["test_needs_gpu"]["message"]
    # the plugin's own gpu/external skips are declared; a missing binary is not
    assert "CUDA" in records["test_needs_gpu"]["sanctioned_skip"]
    assert records["test_external_without_requires"]["sanctioned_skip"].startswith("external")
    assert "make setup" in records["test_missing_binary"]["message"]
    assert "sanctioned_skip" not in records["test_missing_binary"]
    collection = json.loads(collected.read_text())
    assert len(collection["tests"]) == 6
    assert "aiinfra_shared.testing.plugin" in collection["plugins"]


def test_missing_binary_is_an_error_on_ci(pytester: pytest.Pytester,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_sample=SAMPLE)
    outcome = pytester.runpytest("-k", "missing_binary")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(["*CI=true and 'definitely-not-installed-xyz' is not installed*"])
