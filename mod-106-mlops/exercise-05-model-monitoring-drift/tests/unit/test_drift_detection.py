"""Window analysis on planted drift: the right columns, nothing else, and no false calm."""

from __future__ import annotations

import pytest

from driftwatch.analysis import STATUS_INSUFFICIENT, AnalysisOptions, analyse
from driftwatch.simulate import Drift
from tests.helpers import AS_OF, reference, window


@pytest.fixture(scope="module")
def profile():  # type: ignore[no-untyped-def]
    return reference()


@pytest.mark.points(3)
def test_two_samples_of_one_distribution_show_no_drift(profile) -> None:  # type: ignore[no-untyped-def]
    for seed in (11, 12, 13):
        result = analyse(window(seed, 3000), profile, AnalysisOptions(), "m", "1", AS_OF)
        assert result.status == "ok"
        assert result.drifted_columns == [], (seed, result.columns)
        assert result.drifted_share == 0.0
        assert result.domain_classifier is not None and result.mmd is not None
        assert result.domain_classifier["auc"] < 0.55
        assert not result.mmd["drifted"]


@pytest.mark.points(4)
def test_a_shift_in_two_columns_flags_exactly_those_two(profile) -> None:  # type: ignore[no-untyped-def]
    drift = Drift("covariate", 0.4, ("age", "balance"))
    result = analyse(window(21, 3000, drift), profile, AnalysisOptions(), "m", "1", AS_OF)
    assert sorted(result.drifted_columns) == ["age", "balance"]
    assert result.drifted_share == pytest.approx(2 / 8)
    by_column = {c["column"]: c for c in result.columns}
    assert by_column["age"]["method"] == "ks" and by_column["region"]["method"] == "chisquare"
    assert by_column["age"]["p_adjusted"] < 0.05 <= by_column["income"]["p_adjusted"]


@pytest.mark.points(3)
def test_multivariate_detectors_see_the_shift_and_name_its_features(profile) -> None:  # type: ignore[no-untyped-def]
    drift = Drift("covariate", 0.5, ("income", "tenure_months"))
    result = analyse(window(22, 2000, drift), profile, AnalysisOptions(), "m", "1", AS_OF)
    assert result.domain_classifier is not None and result.mmd is not None
    assert result.domain_classifier["auc"] > 0.6 and result.domain_classifier["drifted"]
    top = {name for name, _ in result.domain_classifier["top_features"][:2]}
    assert top == {"income", "tenure_months"}
    assert result.mmd["p_value"] < 0.05 and result.mmd["drifted"]


@pytest.mark.points(2)
def test_per_column_methods_come_from_config(profile) -> None:  # type: ignore[no-untyped-def]
    options = AnalysisOptions(per_column_method={"income": "psi", "age": "wasserstein",
                                                 "region": "jensenshannon"})
    drift = Drift("covariate", 0.8, ("income",))
    result = analyse(window(23, 2000, drift), profile, options, "m", "1", AS_OF)
    by_column = {c["column"]: c for c in result.columns}
    assert by_column["income"]["method"] == "psi" and by_column["income"]["score"] > 0.1
    assert by_column["income"]["drifted"] and by_column["income"]["p_value"] is None
    assert by_column["age"]["method"] == "wasserstein" and not by_column["age"]["drifted"]
    assert by_column["region"]["method"] == "jensenshannon"


@pytest.mark.points(2)
def test_a_too_small_window_is_insufficient_data_not_no_drift(profile) -> None:  # type: ignore[no-untyped-def]
    result = analyse(window(24, 120), profile, AnalysisOptions(min_rows=300), "m", "1", AS_OF)
    assert result.status == STATUS_INSUFFICIENT
    assert result.drifted_share is None and result.columns == []
    assert result.estimated is None and result.realized is None


@pytest.mark.hidden
@pytest.mark.points(2)
def test_missing_values_are_measured_and_seen_by_the_domain_classifier(profile) -> None:  # type: ignore[no-untyped-def]
    result = analyse(window(25, 2000, Drift("missing", 0.3, ("credit_score",))), profile,
                     AnalysisOptions(), "m", "1", AS_OF)
    assert result.missing_share["credit_score"] == pytest.approx(0.3, abs=0.03)
    assert result.missing_share["income"] == 0.0
    assert result.domain_classifier is not None and result.domain_classifier["drifted"]
