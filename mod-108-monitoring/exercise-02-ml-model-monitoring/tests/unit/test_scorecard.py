from typing import Any

import pytest

from modelmon.config import Thresholds
from modelmon.scorecard import ModelNotFoundError, ScoreInputs, collect, grade, render_html


def healthy(**overrides: Any) -> ScoreInputs:
    values: dict[str, Any] = {
        "model": "churn", "version": "v1", "window": "5m", "requests": 1000.0, "errors": 1.0,
        "p99_seconds": 0.05, "accuracy": 0.91, "baseline_accuracy": 0.92, "labelled": 500.0,
        "psi": {"f0": 0.03, "f1": 0.05}, "prediction_psi": 0.01,
        "null_rate": {"f0": 0.0}, "out_of_range_rate": {"f0": 0.001},
    }
    values.update(overrides)
    return ScoreInputs(**values)


def grades(inputs: ScoreInputs) -> dict[str, str]:
    return {c.name: c.grade for c in grade(inputs, Thresholds(), now=0).checks}


@pytest.mark.points(1)
def test_healthy_model_is_green() -> None:
    card = grade(healthy(), Thresholds(), now=0)
    assert card.overall == "green"
    assert grades(healthy()) == dict.fromkeys(
        ["availability", "latency", "accuracy", "drift", "data_quality"], "green")
    availability = card.checks[0]
    assert availability.value == pytest.approx(0.999)
    assert "99.90%" in availability.detail


@pytest.mark.parametrize(("overrides", "check", "expected"), [
    ({"errors": 7.0}, "availability", "amber"),  # 99.3%
    ({"errors": 50.0}, "availability", "red"),
    ({"p99_seconds": 0.45}, "latency", "amber"),  # SLO 0.3, amber to 0.6
    ({"p99_seconds": 0.9}, "latency", "red"),
    ({"accuracy": 0.88}, "accuracy", "amber"),  # drop 0.04
    ({"accuracy": 0.80}, "accuracy", "red"),
    ({"psi": {"f0": 0.15}}, "drift", "amber"),
    ({"psi": {"f0": 0.35, "f1": 0.01}}, "drift", "red"),
    ({"null_rate": {"f2": 0.03}}, "data_quality", "amber"),
    ({"out_of_range_rate": {"f2": 0.2}}, "data_quality", "red"),
    ({"requests": 0.0}, "availability", "unknown"),
    ({"accuracy": None}, "accuracy", "unknown"),
    ({"psi": {}}, "drift", "unknown"),
])
@pytest.mark.points(1)
def test_thresholds(overrides: dict[str, Any], check: str, expected: str) -> None:
    assert grades(healthy(**overrides))[check] == expected


@pytest.mark.points(1)
def test_overall_is_worst_known_grade_and_detail_names_the_feature() -> None:
    card = grade(healthy(psi={"f0": 0.35, "f1": 0.3}, p99_seconds=0.45, accuracy=None),
                 Thresholds(), now=0)
    assert card.overall == "red"
    drift = next(c for c in card.checks if c.name == "drift")
    assert "f0" in drift.detail and "drifted: f0, f1" in drift.detail


@pytest.mark.points(1)
@pytest.mark.hidden
def test_html_page_is_escaped_and_coloured() -> None:
    card = grade(healthy(model="<script>"), Thresholds(), now=0)
    page = render_html(card)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<tr>") == 6  # header + five checks
    assert "#2e7d32" in page


class FakeClient:
    """Records queries; answers from a table (the real adapter is tested against Prometheus)."""

    def __init__(self, known: bool) -> None:
        self.known = known
        self.queries: list[str] = []

    def query(self, expr: str) -> list[dict[str, Any]]:
        self.queries.append(expr)
        return [{"metric": {}, "value": [0, "1"]}] if self.known else []

    def scalar(self, expr: str) -> float | None:
        self.queries.append(expr)
        return 1.0

    def vector(self, expr: str, label: str) -> dict[str, float]:
        self.queries.append(expr)
        return {"f0": 0.1}


@pytest.mark.points(2)
def test_collect_scopes_queries_to_model_version_and_window() -> None:
    client = FakeClient(known=True)
    inputs = collect(client, "churn", "v2", "15m")
    assert inputs.psi == {"f0": 0.1}
    assert all('model="churn", version="v2"' in q for q in client.queries)
    assert any("[15m]" in q for q in client.queries)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_collect_unknown_model() -> None:
    with pytest.raises(ModelNotFoundError, match="no modelmon series for model 'ghost'"):
        collect(FakeClient(known=False), "ghost")
