import pytest

from mltrack.config import GateConfig
from mltrack.gates import evaluate_gates, signature_compatibility

GOOD = {"accuracy": 0.95, "f1": 0.96, "precision": 0.95, "recall": 0.97}
REF = [("a", "double"), ("b", "double")]


@pytest.mark.points(4)
def test_first_promotion_checks_floors_latency_and_signature() -> None:
    report = evaluate_gates(GateConfig(), GOOD, None, 5.0, (True, "ok"))
    assert report.passed
    assert [c.name for c in report.checks] == ["signature", "min_accuracy", "min_f1", "latency"]


@pytest.mark.points(4)
def test_floor_failure_is_named() -> None:
    report = evaluate_gates(GateConfig(min_metrics={"f1": 0.97}), GOOD, None, 5.0, (True, ""))
    assert not report.passed
    assert "min_f1: f1 0.9600 < 0.9700" in report.summary()


@pytest.mark.points(5)
def test_regression_beyond_allowance_blocks_and_within_passes() -> None:
    config = GateConfig(max_regression={"f1": 0.02})
    champion = {**GOOD, "f1": 0.99}
    assert not evaluate_gates(config, GOOD, champion, 1.0, (True, "")).passed  # drop 0.03
    champion_close = {**GOOD, "f1": 0.975}
    assert evaluate_gates(config, GOOD, champion_close, 1.0, (True, "")).passed  # drop 0.015


@pytest.mark.points(3)
def test_latency_budget() -> None:
    report = evaluate_gates(GateConfig(latency_budget_ms=10), GOOD, None, 12.5, (True, ""))
    assert [c.name for c in report.failures] == ["latency"]


@pytest.mark.points(3)
@pytest.mark.hidden
def test_incompatible_signature_stops_before_metrics() -> None:
    report = evaluate_gates(GateConfig(), {}, None, None, (False, "missing input(s) 'b'"))
    assert not report.passed
    assert [c.name for c in report.checks] == ["signature"]


@pytest.mark.points(5)
def test_signature_compatibility_cases() -> None:
    assert signature_compatibility(list(reversed(REF)), REF)[0]  # order does not matter
    ok, detail = signature_compatibility([("a", "double")], REF)
    assert not ok and "missing input(s) 'b'" in detail
    ok, detail = signature_compatibility([*REF, ("c", "double")], REF)
    assert not ok and "unexpected input(s) 'c'" in detail
    ok, detail = signature_compatibility([("a", "double"), ("b", "string")], REF)
    assert not ok and "'b' (double -> string)" in detail
    assert signature_compatibility(None, REF) == (False, "candidate has no signature")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_long_problem_lists_are_shortened() -> None:
    ref = [(f"f{i}", "double") for i in range(10)]
    ok, detail = signature_compatibility([], ref)
    assert not ok and detail.endswith("and 7 more")
