"""The gate: per-metric rules, floors, and the paired bootstrap that forgives noise only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcicd.errors import ConfigInvalidError
from mlcicd.gate import GateConfig, MetricRule, evaluate, paired_bootstrap_p, parse_config

pytestmark = pytest.mark.points(2)


def cfg(bootstrap: bool = True, **rules: MetricRule) -> GateConfig:
    return GateConfig(metrics=rules, bootstrap={"enabled": bootstrap, "samples": 2000})


def preds(y: np.ndarray, correct: np.ndarray) -> pd.DataFrame:
    prob = np.where(correct, y, 1 - y).astype(float) * 0.8 + 0.1
    return pd.DataFrame({"id": np.arange(len(y)), "y_true": y, "y_prob": prob})


Y = np.random.default_rng(3).integers(0, 2, size=200)


def test_direction_tolerance_and_floor():
    config = cfg(False, accuracy=MetricRule(abs_tol=0.01, floor=0.9),
                 latency=MetricRule(direction="lower", rel_tol=0.1, floor=50))
    ok = evaluate(config, {"accuracy": 0.95, "latency": 20}, {"accuracy": 0.945, "latency": 21.9})
    assert ok.passed
    worse = evaluate(config, {"accuracy": 0.95, "latency": 20}, {"accuracy": 0.93, "latency": 23})
    assert [d.passed for d in worse.decisions] == [False, False]
    floor = evaluate(config, {"accuracy": 0.95}, {"accuracy": 0.89, "latency": 60})
    assert "floor" in floor.decisions[0].reason
    assert "ceiling" in floor.decisions[1].reason


def test_missing_candidate_metric_fails_and_new_metric_passes():
    config = cfg(False, accuracy=MetricRule(), f1=MetricRule())
    result = evaluate(config, {"accuracy": 0.9}, {"f1": 0.8})
    assert not result.decisions[0].passed
    assert result.decisions[1].passed and "new metric" in result.decisions[1].reason


@pytest.mark.points(3)
def test_noise_within_tolerance_breach_is_forgiven():
    """2 rows of 200 flip: 1 pp worse, over the 0.5 pp tolerance, but not significant."""
    base_ok = np.ones(200, dtype=bool)
    base_ok[:20] = False
    cand_ok = base_ok.copy()
    cand_ok[20:23] = False
    cand_ok[0] = True
    config = cfg(True, accuracy=MetricRule(abs_tol=0.005))
    result = evaluate(config, {"accuracy": base_ok.mean()}, {"accuracy": cand_ok.mean()},
                      preds(Y, base_ok), preds(Y, cand_ok))
    decision = result.decisions[0]
    assert decision.passed, decision.reason
    assert "within noise" in decision.reason and decision.p_value is not None
    assert decision.p_value >= 0.05
    # the same numbers without predictions: rules only, the breach fails
    assert not evaluate(config, {"accuracy": base_ok.mean()},
                        {"accuracy": cand_ok.mean()}).passed


@pytest.mark.points(3)
def test_significant_regression_fails():
    base_ok = np.ones(200, dtype=bool)
    base_ok[:10] = False
    cand_ok = base_ok.copy()
    cand_ok[10:40] = False
    config = cfg(True, accuracy=MetricRule(abs_tol=0.01))
    result = evaluate(config, {"accuracy": base_ok.mean()}, {"accuracy": cand_ok.mean()},
                      preds(Y, base_ok), preds(Y, cand_ok))
    assert not result.passed
    assert result.decisions[0].p_value < 0.05
    assert "significant" in result.decisions[0].reason


@pytest.mark.hidden
def test_bootstrap_needs_pairs_on_the_same_rows():
    base_ok = np.ones(200, dtype=bool)
    cand = preds(Y, base_ok.copy())
    cand["id"] = cand["id"] + 1000  # another split: no pairs
    config = cfg(True, accuracy=MetricRule(abs_tol=0.0))
    result = evaluate(config, {"accuracy": 1.0}, {"accuracy": 0.98}, preds(Y, base_ok), cand)
    assert not result.passed
    assert "no paired predictions" in result.decisions[0].reason


@pytest.mark.hidden
def test_bootstrap_roc_auc_and_determinism():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=120)
    base = np.clip(y * 0.6 + rng.normal(0.2, 0.2, size=120), 0, 1)
    cand = np.clip(y * 0.2 + rng.normal(0.4, 0.3, size=120), 0, 1)
    from mlcicd.gate import SCORERS

    p1 = paired_bootstrap_p(y, base, cand, SCORERS["roc_auc"], "higher", 300, 7)
    p2 = paired_bootstrap_p(y, base, cand, SCORERS["roc_auc"], "higher", 300, 7)
    assert p1 == p2 < 0.05
    assert paired_bootstrap_p(y, cand, base, SCORERS["roc_auc"], "higher", 300, 7) > 0.5


@pytest.mark.parametrize("data, fragment", [
    ({"metrics": {}}, "metrics"),
    ({"metrics": {"accuracy": {"direction": "up"}}}, "metrics.accuracy.direction"),
    ({"metrics": {"accuracy": {"abs_tol": -1}}}, "abs_tol"),
    ({"metrics": {"accuracy": {}}, "bootstrap": {"alpha": 2}}, "bootstrap.alpha"),
    ({"metrics": {"accuracy": {"tolerance": 1}}}, "tolerance"),
])
def test_invalid_gate_config_names_the_field(data, fragment):
    with pytest.raises(ConfigInvalidError, match=fragment):
        parse_config(data, "gate.yaml")
