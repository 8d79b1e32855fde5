from typing import Any

import numpy as np
import pytest

from modelmon.predlog import LabelRecord, PredictionRecord
from modelmon.reference import ReferenceError, parse_reference
from modelmon.window import ModelWindows
from tests.unit.helpers import small_reference


def pred(i: int, ts: float = 100.0, a: float | None = 0.0, b: float | None = 0.0,
         prediction: float = 1, score: float = 0.7, model: str = "m",
         version: str = "v1") -> PredictionRecord:
    return PredictionRecord(f"p{i}", ts, model, version, {"a": a, "b": b}, prediction, score)


def windows(**kwargs: float) -> ModelWindows:
    params = {"window_seconds": 300.0, "max_size": 1000, "min_samples": 5, "min_labels": 4,
              **kwargs}
    return ModelWindows({"m": small_reference()}, **params)  # type: ignore[arg-type]


@pytest.mark.points(3)
def test_labels_join_by_id_and_accuracy_is_computed() -> None:
    w = windows()
    for i, p in enumerate([1, 1, 0, 0]):
        w.add_prediction(pred(i, prediction=p, score=0.8 if p else 0.2))
    # truth 1, 0, 0, 1 -> 2 of 4 right
    for i, label in enumerate([1, 0, 0, 1]):
        assert w.add_label(LabelRecord(f"p{i}", 101.0, label))
    [m] = w.compute(now=110.0)
    assert (m.predictions, m.labelled) == (4, 4)
    assert m.quality["accuracy"] == 0.5
    assert m.quality["f1"] == pytest.approx(0.5)  # TP=1 FP=1 FN=1
    assert m.quality["auc"] == pytest.approx(0.5)
    assert m.baseline == {"accuracy": 0.9}


@pytest.mark.points(3)
def test_label_before_its_prediction_waits_then_joins() -> None:
    w = windows()
    assert not w.add_label(LabelRecord("p1", 100.0, 1), now=100.0)
    w.add_prediction(pred(1))
    w.compute(now=101.0)
    assert w.counters.labels_joined == 1
    assert w.counters.labels_unmatched == 0


@pytest.mark.points(3)
@pytest.mark.hidden
def test_unknown_label_counted_after_grace_and_duplicates_counted() -> None:
    w = windows(label_grace_seconds=5.0)
    w.add_prediction(pred(1))
    w.add_label(LabelRecord("nope", 100.0, 1), now=100.0)
    w.compute(now=103.0)
    assert w.counters.labels_unmatched == 0  # still within the grace period
    w.compute(now=106.0)
    assert w.counters.labels_unmatched == 1
    assert w.add_label(LabelRecord("p1", 100.0, 1))
    assert not w.add_label(LabelRecord("p1", 100.0, 0))
    assert w.counters.labels_duplicate == 1


@pytest.mark.points(1)
def test_unknown_model_is_counted_not_stored() -> None:
    w = windows()
    assert not w.add_prediction(pred(1, model="other"))
    assert w.counters.unknown_model == 1
    assert w.compute(now=100.0) == []


@pytest.mark.points(2)
def test_window_expires_by_age_and_size() -> None:
    w = windows(window_seconds=60.0, max_size=3)
    for i in range(5):
        w.add_prediction(pred(i, ts=100.0 + i))
    [m] = w.compute(now=104.0)
    assert m.predictions == 3  # size bound
    [m] = w.compute(now=163.5)
    assert m.predictions == 1  # only ts=104 is younger than 60 s
    assert "p0" not in w.index


@pytest.mark.points(1)
def test_versions_are_separate_windows() -> None:
    w = windows()
    w.add_prediction(pred(1, version="v1"))
    w.add_prediction(pred(2, version="v2"))
    assert [(m.model, m.version) for m in w.compute(now=100.0)] == [("m", "v1"), ("m", "v2")]


@pytest.mark.points(3)
def test_drift_detected_only_on_shifted_feature() -> None:
    w = windows()
    rng = np.random.default_rng(5)
    for i in range(500):
        w.add_prediction(pred(i, a=float(rng.standard_normal() + 1.5),
                              b=float(rng.standard_normal())))
    [m] = w.compute(now=100.0)
    assert m.features["a"].psi is not None and m.features["a"].psi > 0.5
    assert m.features["b"].psi is not None and m.features["b"].psi < 0.1
    assert m.features["a"].ks is not None and m.features["a"].ks > 0.4


@pytest.mark.points(2)
@pytest.mark.hidden
def test_no_drift_numbers_below_min_samples_but_quality_rates_always() -> None:
    w = windows(min_samples=10)
    w.add_prediction(pred(1, a=None, b=50.0))
    w.add_prediction(pred(2, a=0.5, b=0.0))
    [m] = w.compute(now=100.0)
    assert m.features["a"].psi is None and m.prediction_psi is None
    assert m.features["a"].null_rate == 0.5
    assert m.features["b"].out_of_range_rate == 0.5
    assert m.quality == {}


@pytest.mark.points(2)
def test_regression_task_gives_mae_rmse() -> None:
    w = ModelWindows({"r": small_reference("r", task="regression")}, min_samples=1,
                     min_labels=2)
    w.add_prediction(PredictionRecord("x", 1.0, "r", "v1", {"a": 0.0, "b": 0.0}, 2.0))
    w.add_prediction(PredictionRecord("y", 1.0, "r", "v1", {"a": 0.0, "b": 0.0}, 5.0))
    w.add_label(LabelRecord("x", 2.0, 1.0))
    w.add_label(LabelRecord("y", 2.0, 1.0))
    [m] = w.compute(now=3.0)
    # errors 1 and 4: MAE 5/2, RMSE sqrt((1 + 16) / 2)
    assert m.quality == {"mae": pytest.approx(2.5), "rmse": pytest.approx(8.5 ** 0.5)}


@pytest.mark.parametrize(("data", "why"), [
    ([], "top level"),
    ({"model": "m", "features": {}}, "non-empty"),
    ({"model": "m", "task": "ranking", "features": {"a": {"sample": [1]}}}, "task"),
    ({"model": "m", "features": {"a": {"sample": [1, 2]}}}, "at least 10"),
    ({"features": {"a": {"sample": list(range(20))}}}, "model must be"),
])
@pytest.mark.points(1)
def test_invalid_reference_is_rejected(data: object, why: str) -> None:
    with pytest.raises(ReferenceError, match=why):
        parse_reference(data)


def _equivalence_reference(task: str) -> Any:
    """Feature a is continuous, b discrete (ties in the reference and the window)."""
    rng = np.random.default_rng(7)
    return parse_reference({
        "model": "m", "task": task,
        "features": {"a": {"sample": rng.standard_normal(500).tolist(), "low": -2, "high": 2},
                     "b": {"sample": rng.integers(0, 6, 500).astype(float).tolist()}},
        "prediction_sample": rng.random(500).round(2).tolist(),
        "baseline": {"accuracy": 0.9}})


def _assert_same(got: list[Any], want: list[Any]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert (g.model, g.version, g.predictions, g.labelled) == \
            (w.model, w.version, w.predictions, w.labelled)
        assert g.features.keys() == w.features.keys()
        for name, fs in w.features.items():
            # drift statistics and rates: exact, not approximated by the incremental counts
            assert g.features[name] == fs, name
        assert g.prediction_psi == w.prediction_psi
        assert g.quality == pytest.approx(w.quality, rel=1e-9)
        assert g.business == pytest.approx(w.business, rel=1e-9)


@pytest.mark.points(2)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_incremental_windows_equal_a_recomputation_over_many_steps(task: str) -> None:
    """Rows enter, get labelled (some late, some twice) and leave by age and by size; at
    every step the incremental aggregates give the numbers a from-scratch rebuild gives."""
    reference = _equivalence_reference(task)
    params: dict[str, Any] = {"window_seconds": 10.0, "max_size": 25, "min_samples": 5,
                              "min_labels": 4}
    fast = ModelWindows({"m": reference}, **params)
    slow = ModelWindows({"m": reference}, incremental=False, **params)
    rng = np.random.default_rng(3)
    ts, seen, compared = 0.0, [], 0
    for step in range(12):
        for _ in range(int(rng.integers(10, 60))):
            ts += 0.1
            i = len(seen)
            a = None if rng.random() < 0.1 else float(rng.normal(0.5 * (step % 3), 1.2))
            b = None if rng.random() < 0.1 else float(rng.integers(-1, 8))
            score = round(float(rng.random()), 2)
            prediction = float(rng.normal()) if task == "regression" else float(score > 0.5)
            record = PredictionRecord(f"p{i}", ts, "m", f"v{i % 2}", {"a": a, "b": b},
                                      prediction, score)
            assert fast.add_prediction(record) == slow.add_prediction(record)
            seen.append(i)
        # mostly recent ids, a few long evicted ones; some labelled twice across steps
        for i in [*rng.choice(seen[-60:], size=min(len(seen), 30), replace=False),
                  *rng.choice(seen, size=3)]:
            label = float(rng.normal()) if task == "regression" else float(rng.random() > 0.4)
            value = None if rng.random() < 0.3 else float(rng.integers(0, 100))
            record = LabelRecord(f"p{i}", ts, label, value)
            assert fast.add_label(record, ts) == slow.add_label(record, ts)
        got, want = fast.compute(now=ts), slow.compute(now=ts)
        _assert_same(got, want)
        compared += sum(1 for m in got if m.quality and m.features["a"].ks is not None)
    assert fast.counters == slow.counters
    assert fast.counters.evicted > 300  # rows left by age and by size
    assert fast.counters.labels_duplicate > 0
    assert compared >= 12  # most steps compared drift and quality of both versions
