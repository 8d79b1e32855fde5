"""Realised metrics and CBPE: estimated accuracy before the labels, checked against them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, roc_auc_score

from driftwatch.performance import Calibration, cbpe, realized_metrics
from driftwatch.simulate import Drift, Simulator
from tests.helpers import reference


@pytest.mark.points(2)
def test_realized_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(3)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    m = realized_metrics(y, p)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, p >= 0.5))
    assert m["f1"] == pytest.approx(f1_score(y, p >= 0.5))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))


@pytest.mark.points(4)
def test_cbpe_is_within_002_of_realized_accuracy_on_calibrated_data() -> None:
    profile = reference(seed=5, rows=5000)
    for seed, drift in ((31, None), (32, Drift("covariate", 0.7, ("income", "credit_score"))),
                        (33, Drift("prior", 0.65))):
        frame = Simulator(seed=seed).sample(5000, drift)
        estimate = cbpe(frame["probability"].to_numpy(), profile.calibration)
        truth = realized_metrics(frame["label"].to_numpy(), frame["probability"].to_numpy())
        assert abs(estimate["accuracy"] - truth["accuracy"]) <= 0.02, (drift, estimate, truth)
        assert abs(estimate["f1"] - truth["f1"]) <= 0.03


@pytest.mark.points(2)
def test_calibration_on_the_reference_repairs_an_overconfident_model() -> None:
    rng = np.random.default_rng(4)
    true_p = rng.beta(2, 2, 20_000)
    y = (rng.random(20_000) < true_p).astype(int)
    overconfident = np.clip(0.5 + 1.8 * (true_p - 0.5), 0.001, 0.999)
    calibration = Calibration.fit(overconfident[:10_000], y[:10_000])
    realized = realized_metrics(y[10_000:], overconfident[10_000:])["accuracy"]
    raw = cbpe(overconfident[10_000:], Calibration((0.0, 1.0), (0.0, 1.0)))["accuracy"]
    calibrated = cbpe(overconfident[10_000:], calibration)["accuracy"]
    assert abs(raw - realized) > 0.04  # taking the probabilities at face value is wrong
    assert abs(calibrated - realized) <= 0.02


@pytest.mark.hidden
@pytest.mark.points(3)
def test_concept_drift_is_invisible_to_cbpe_and_visible_in_labels() -> None:
    profile = reference(seed=6, rows=5000)
    frame = Simulator(seed=34).sample(5000, Drift("concept"))
    estimate = cbpe(frame["probability"].to_numpy(), profile.calibration)["accuracy"]
    truth = realized_metrics(frame["label"].to_numpy(), frame["probability"].to_numpy())
    assert abs(estimate - profile.performance["accuracy"]) < 0.02  # looks fine ...
    assert profile.performance["accuracy"] - truth["accuracy"] > 0.3  # ... and is not
