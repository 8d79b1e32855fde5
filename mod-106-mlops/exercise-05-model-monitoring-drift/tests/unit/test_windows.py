"""Tumbling windows and the delayed-label join (grace period, as-of time, coverage)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from driftwatch.contract import DataContract
from driftwatch.errors import ConfigurationError, UnknownLabelsError
from driftwatch.windows import WindowSpec, check_label_ids, cut_windows, join_labels

CONTRACT = DataContract(numerical=("x",))
T0 = pd.Timestamp("2026-03-01", tz="UTC")


def _log(hours: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"prediction_id": [f"p{i}" for i in range(len(hours))],
                         "timestamp": [T0 + pd.Timedelta(hours=h) for h in hours],
                         "x": range(len(hours)), "prediction": 0, "probability": 0.2})


@pytest.mark.points(2)
def test_time_windows_are_tumbling_and_skip_empty_days() -> None:
    windows = cut_windows(_log([1, 5, 23.5, 24.5, 72]), CONTRACT, WindowSpec(every="1D"))
    assert [w.id for w in windows] == ["2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z",
                                       "2026-03-04T00:00:00Z"]
    assert [w.rows for w in windows] == [3, 1, 1]
    assert windows[0].end == T0 + pd.Timedelta(days=1)
    by_rows = cut_windows(_log([3, 1, 2, 4, 5]), CONTRACT, WindowSpec(every=None, rows=2))
    assert [w.rows for w in by_rows] == [2, 2, 1]
    assert by_rows[0].frame["x"].tolist() == [1, 2]  # sorted by time first


@pytest.mark.points(3)
def test_labels_join_by_id_within_the_grace_period_and_as_of() -> None:
    window = cut_windows(_log([1, 2, 3, 4]), CONTRACT, WindowSpec(every="1D"))[0]
    labels = pd.DataFrame({"prediction_id": ["p0", "p1", "p2", "p3"], "label": [1, 0, 1, 1],
                           "label_timestamp": [T0 + pd.Timedelta(days=d)
                                               for d in (1.5, 2.5, 3.5, 9)]})
    grace = timedelta(days=3)  # labels count until window end (day 1) + 3 days = day 4
    early = join_labels(window, labels, CONTRACT, T0 + pd.Timedelta(days=2), grace)
    assert early.labelled == 1 and early.coverage == 0.25 and not early.matured
    late = join_labels(window, labels, CONTRACT, T0 + pd.Timedelta(days=10), grace)
    assert late.labelled == 3 and late.matured  # p3's label came after the grace period
    assert late.frame.set_index("prediction_id")["label"].to_dict()["p2"] == 1


@pytest.mark.points(1)
def test_labels_for_unknown_ids_are_refused() -> None:
    labels = pd.DataFrame({"prediction_id": ["p0", "zz"], "label": [1, 0],
                           "label_timestamp": [T0, T0]})
    with pytest.raises(UnknownLabelsError, match=r"1 label.*unknown prediction_id.*zz"):
        check_label_ids(_log([1]), labels, CONTRACT)


@pytest.mark.points(1)
def test_window_spec_rejects_nonsense() -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        WindowSpec(every="1D", rows=100)
    with pytest.raises(ConfigurationError, match="not a positive duration"):
        WindowSpec(every="soon")
