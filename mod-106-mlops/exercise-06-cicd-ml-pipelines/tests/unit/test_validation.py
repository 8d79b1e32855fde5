"""Data validation: schema (types, ranges, nulls, uniqueness), class balance, shift."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlcicd.project import bundled_data
from mlcicd.validation import build_profile, psi, validate
from tests.conftest import cli

pytestmark = pytest.mark.points(2)


@pytest.fixture(scope="module")
def data():
    return bundled_data()


@pytest.fixture(scope="module")
def profile(data):
    return build_profile(data)


def test_bundled_data_passes_its_own_profile(data, profile):
    result = validate(data, profile, 0.2, 0.25)
    assert result.valid, result.failures
    assert result.metrics()["valid"] == 1
    assert result.metrics()["max_psi"] < 0.01


@pytest.mark.points(3)
def test_schema_failures_name_columns_and_rows(data, profile):
    bad = data.copy()
    bad.loc[3, "mean radius"] = np.nan                 # null
    bad.loc[5, "worst area"] = -10.0                   # out of range (negative size)
    bad.loc[8, "id"] = bad.loc[9, "id"]                # duplicate id
    result = validate(bad, profile, 0.2, 0.25)
    found = {(f.column, f.check.split("(")[0]): f for f in result.failures}
    assert ("mean radius", "not_nullable") in found
    assert found[("worst area", "in_range")].rows == [int(bad.loc[5, "id"])]
    duplicate = next(f for f in result.failures if f.column == "id")
    assert duplicate.count == 2
    assert not result.valid


def test_wrong_type_and_unknown_column_fail(data, profile):
    bad = data.copy()
    bad["target"] = bad["target"].map({0: "malignant", 1: "benign"})
    bad["extra"] = 1
    result = validate(bad, profile, 0.2, 0.25)
    columns = {f.column for f in result.failures}
    assert "target" in columns
    assert any("extra" in f.column or "column_in_schema" in f.check for f in result.failures)


def test_class_balance_is_checked(data, profile):
    skewed = data[(data["target"] == 1) | (data.index < 40)]
    result = validate(skewed, profile, 0.2, 0.25)
    assert any(f.check.startswith("class_balance") for f in result.failures)
    assert result.minority_share < 0.2


@pytest.mark.points(3)
def test_shift_against_the_last_data_version(data, profile):
    shifted = data.copy()
    shifted["mean texture"] = shifted["mean texture"] * 1.6  # a unit change, still in range
    result = validate(shifted, profile, 0.2, 0.25)
    failing = [f for f in result.failures if f.check.startswith("shift")]
    assert [f.column for f in failing] == ["mean texture"]
    assert result.psi["mean texture"] > 0.25
    assert result.psi["mean radius"] < 0.01


@pytest.mark.hidden
def test_psi_is_zero_for_identical_and_grows_with_distance():
    assert psi([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    assert psi([0.5, 0.5], [0.6, 0.4]) < psi([0.5, 0.5], [0.9, 0.1])
    assert psi([0.5, 0.5, 0.0], [0.5, 0.4, 0.1]) > 0  # an empty reference bin is no crash


@pytest.mark.points(3)
def test_validate_data_cli_reports_and_exits_1(tmp_path, data, profile):
    bad = data.copy()
    bad.loc[2, "mean area"] = np.nan
    csv = tmp_path / "train.csv"
    bad.to_csv(csv, index=False)
    (tmp_path / "profile.json").write_text(json.dumps(profile))
    report = tmp_path / "validation.json"
    result = cli("validate-data", str(csv), "--profile", str(tmp_path / "profile.json"),
                 "--report", str(report))
    assert result.exit_code == 1
    assert "mean area" in result.output
    assert "Traceback" not in result.output
    assert json.loads(report.read_text())["valid"] == 0


def test_validate_data_cli_missing_file_exit_4(tmp_path):
    result = cli("validate-data", str(tmp_path / "nope.csv"), "--profile", str(tmp_path / "p"))
    assert result.exit_code == 4
    assert "nope.csv not found" in result.output


def _both_engines(tmp_path, frame, profile, name):
    """validate-data on `frame` under pandera and under Great Expectations (--json)."""
    csv = tmp_path / f"{name}.csv"
    frame.to_csv(csv, index=False)
    (tmp_path / "profile.json").write_text(json.dumps(profile))
    runs = {}
    for engine in ("pandera", "ge"):
        result = cli("validate-data", str(csv), "--profile", str(tmp_path / "profile.json"),
                     "--engine", engine, "--json")
        assert "Traceback" not in result.output
        runs[engine] = (result, json.loads(result.stdout))
    return runs


@pytest.mark.points(2)
def test_ge_engine_passes_clean_data_fails_corrupted_and_agrees_with_pandera(tmp_path, data,
                                                                              profile):
    clean = _both_engines(tmp_path, data, profile, "clean")
    for engine, (result, body) in clean.items():
        assert result.exit_code == 0, (engine, result.output)
        assert body["valid"] == 1 and body["details"] == []
    bad = data.copy()
    bad.loc[3, "mean radius"] = np.nan                 # null
    bad.loc[5, "worst area"] = -10.0                   # out of range (negative size)
    bad.loc[8, "id"] = bad.loc[9, "id"]                # duplicate id
    corrupted = _both_engines(tmp_path, bad, profile, "corrupted")
    columns = {}
    for engine, (result, body) in corrupted.items():
        assert result.exit_code == 1, (engine, result.output)
        assert body["valid"] == 0
        assert "data validation failed: 3 check(s) on id, mean radius, worst area" in result.output
        columns[engine] = {f["column"] for f in body["details"]}
    assert columns["ge"] == columns["pandera"] == {"id", "mean radius", "worst area"}
    checks = {f["column"]: f for f in corrupted["ge"][1]["details"]}
    assert checks["mean radius"]["check"] == "expect_column_values_to_not_be_null"
    assert checks["worst area"]["check"] == "expect_column_values_to_be_between"
    assert checks["worst area"]["rows"] == [int(bad.loc[5, "id"])]
    assert checks["id"]["check"] == "expect_column_values_to_be_unique"
    assert checks["id"]["count"] == 2


@pytest.mark.hidden
@pytest.mark.points(1)
def test_ge_engine_checks_class_balance_types_and_columns(tmp_path, data, profile):
    bad = data[(data["target"] == 1) | (data.index < 40)].copy()  # minority share < 0.2
    bad["target"] = bad["target"].astype(float)                     # not int64
    bad["extra"] = 1                                                # unknown column
    runs = _both_engines(tmp_path, bad, profile, "skewed")
    assert {engine: result.exit_code for engine, (result, _) in runs.items()} == {
        "pandera": 1, "ge": 1}
    checks = {(f["column"], f["check"].split("(")[0]) for f in runs["ge"][1]["details"]}
    assert ("target", "expect_column_mean_to_be_between") in checks
    assert ("target", "expect_column_values_to_be_of_type") in checks
    assert any(column == "<frame>" and "extra" in check
               for column, check in ((f["column"], f["check"])
                                     for f in runs["ge"][1]["details"]))
