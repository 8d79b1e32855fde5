"""The regression gate on the primary metric uses a paired bootstrap CI of the difference."""

import numpy as np
import pytest

from mltrack.config import GateConfig
from mltrack.gates import bootstrap_difference, evaluate_gates
from mltrack.metrics import classification_metrics

GOOD = {"accuracy": 0.95, "f1": 0.96, "precision": 0.95, "recall": 0.97}
RNG = np.random.default_rng(7)
TRUTH = RNG.integers(0, 2, 114)


def _flip(labels: np.ndarray, rows: list[int]) -> np.ndarray:
    out = labels.copy()
    out[rows] = 1 - out[rows]
    return out


@pytest.mark.points(4)
def test_paired_bootstrap_interval_of_the_difference() -> None:
    champion = _flip(TRUTH, list(range(10)))  # 10 of 114 wrong
    same = bootstrap_difference("accuracy", TRUTH, champion, champion, samples=500)
    assert (same.low, same.point, same.high) == (0.0, 0.0, 0.0)
    better = bootstrap_difference("accuracy", TRUTH, TRUTH, champion, samples=500)
    assert better.point == pytest.approx(10 / 114)
    assert 0 < better.low < better.point < better.high
    again = bootstrap_difference("accuracy", TRUTH, TRUTH, champion, samples=500)
    assert again == better  # seeded: the same data gives the same decision
    worse = bootstrap_difference("recall", TRUTH, champion, TRUTH, samples=500)
    assert worse.high < 0
    with pytest.raises(ValueError, match="same length"):
        bootstrap_difference("f1", TRUTH, TRUTH[:10], TRUTH)


@pytest.mark.points(4)
def test_gate_reads_primary_metric_and_judges_the_interval() -> None:
    config = GateConfig(primary_metric="recall", max_regression={"recall": 0.02})
    candidate = _flip(TRUTH, [0])  # misses one positive: recall drops by 1/62 = 0.016
    champion = TRUTH
    cand_m, champ_m = classification_metrics(TRUTH, candidate), classification_metrics(
        TRUTH, champion)
    assert 0 < champ_m["recall"] - cand_m["recall"] <= 0.02  # the point gate lets it pass
    wide = bootstrap_difference("recall", TRUTH, candidate, champion)
    report = evaluate_gates(config, cand_m, champ_m, 1.0, (True, ""), difference=wide)
    assert [c.name for c in report.failures] == ["ci_recall"]  # the interval does not
    assert "95% CI" in report.summary() and wide.low < -0.02 < wide.point
    tight = bootstrap_difference("recall", TRUTH, TRUTH, TRUTH)
    passed = evaluate_gates(config, GOOD, GOOD, 1.0, (True, ""), difference=tight)
    assert passed.passed and "ci_recall" in [c.name for c in passed.checks]
    f1_config = GateConfig(primary_metric="f1")
    names = [c.name for c in evaluate_gates(f1_config, GOOD, GOOD, 1.0, (True, ""),
                                            difference=tight).checks]
    assert "ci_f1" in names and "ci_recall" not in names


@pytest.mark.points(2)
@pytest.mark.hidden
def test_bootstrap_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="confidence"):
        GateConfig(confidence=1.5)
    with pytest.raises(ValueError, match="bootstrap_samples"):
        GateConfig(bootstrap_samples=0)
