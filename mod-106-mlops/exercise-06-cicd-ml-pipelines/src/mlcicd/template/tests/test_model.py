"""Model tests run in CI after `dvc repro`: behaviour (CheckList-style), quality, contract.

Target: 1 = benign, 0 = malignant (scikit-learn's breast-cancer coding).
"""

import time

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from model import build, feature_columns

PERFORMANCE_FLOOR = 0.90
SLICE_FLOOR = 0.85
LATENCY_BUDGET_S = 0.25  # one-row prediction, p95 over 50 calls (generous: shared CI runners)
SIZE_FEATURES = ["worst radius", "worst perimeter", "worst area", "worst concave points"]


def probs(bundle, frame: pd.DataFrame) -> np.ndarray:
    return bundle["model"].predict_proba(frame[bundle["features"]])[:, 1]


def test_invariance_to_measurement_noise(bundle, test_set):
    """INV: a 0.1% measurement jitter must not flip predictions."""
    rng = np.random.default_rng(0)
    noisy = test_set.copy()
    cols = bundle["features"]
    noisy[cols] = noisy[cols] * (1 + rng.normal(0, 0.001, size=noisy[cols].shape))
    same = (probs(bundle, noisy) >= 0.5) == (probs(bundle, test_set) >= 0.5)
    assert same.mean() >= 0.98


def test_invariance_to_row_identifier(bundle, test_set):
    """INV: the row id is not a feature; shuffling it changes nothing."""
    shuffled = test_set.copy()
    shuffled["id"] = shuffled["id"].sample(frac=1, random_state=1).to_numpy()
    assert np.allclose(probs(bundle, shuffled), probs(bundle, test_set))


def test_directional_larger_tumours_are_less_benign(bundle, test_set):
    """DIR: growing the size features must not raise P(benign)."""
    bigger = test_set.copy()
    bigger[SIZE_FEATURES] = bigger[SIZE_FEATURES] * 1.5
    assert (probs(bundle, bigger) <= probs(bundle, test_set) + 1e-9).mean() >= 0.95


def test_minimum_functionality_prototypes(bundle, train_set):
    """MFT: the median benign and the median malignant case are classified correctly."""
    cols = bundle["features"]
    benign = train_set[train_set["target"] == 1][cols].median().to_frame().T
    malignant = train_set[train_set["target"] == 0][cols].median().to_frame().T
    assert probs(bundle, benign)[0] > 0.5
    assert probs(bundle, malignant)[0] < 0.5


def test_performance_floor(bundle, test_set):
    pred = (probs(bundle, test_set) >= 0.5).astype(int)
    assert accuracy_score(test_set["target"], pred) >= PERFORMANCE_FLOOR


@pytest.mark.parametrize("half", ["small", "large"])
def test_per_slice_accuracy(bundle, test_set, half):
    """Slices by tumour size: a good average must not hide a bad half."""
    median = test_set["mean radius"].median()
    part = test_set[test_set["mean radius"] <= median] if half == "small" else \
        test_set[test_set["mean radius"] > median]
    pred = (probs(bundle, part) >= 0.5).astype(int)
    assert accuracy_score(part["target"], pred) >= SLICE_FLOOR


def test_latency_budget(bundle, test_set):
    row = test_set.head(1)
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        probs(bundle, row)
        timings.append(time.perf_counter() - start)
    assert float(np.percentile(timings, 95)) <= LATENCY_BUDGET_S


def test_signature(bundle, test_set):
    """Inputs: exactly the 30 feature columns; output: two class probabilities per row."""
    assert bundle["features"] == feature_columns(list(test_set.columns))
    assert len(bundle["features"]) == 30
    out = bundle["model"].predict_proba(test_set[bundle["features"]].head(3))
    assert out.shape == (3, 2)
    assert np.allclose(out.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        bundle["model"].predict_proba(test_set[bundle["features"][:-1]].head(3))


def test_same_seed_gives_same_metrics(params, train_set, test_set):
    features = feature_columns(list(train_set.columns))
    runs = [build(params["train"]).fit(train_set[features], train_set["target"])
            .predict_proba(test_set[features])[:, 1] for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])


def test_save_load_round_trip(bundle, test_set, tmp_path):
    joblib.dump(bundle, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert np.array_equal(probs(loaded, test_set), probs(bundle, test_set))
