"""Cut the prediction log into tumbling windows and join the labels that have arrived.

Labels come late (hours to days after the prediction). A label counts for its window only
if it arrived by `window end + grace` and by the evaluation time `as_of`: results are then
reproducible (the same `as_of` always gives the same coverage), and a window is *mature*
once its grace period is over and no more labels will change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from driftwatch.contract import DataContract
from driftwatch.errors import ConfigurationError, UnknownLabelsError


@dataclass(frozen=True)
class WindowSpec:
    """Tumbling windows of `every` (a duration like "1D", "6h") or of `rows` rows."""

    every: str | None = "1D"
    rows: int | None = None
    min_rows: int = 300
    grace: timedelta = timedelta(days=3)

    def __post_init__(self) -> None:
        if (self.every is None) == (self.rows is None):
            raise ConfigurationError("windows: set exactly one of 'every' and 'rows'")
        if self.rows is not None and self.rows < 1:
            raise ConfigurationError("windows: rows must be >= 1")
        if self.every is not None:
            try:
                if pd.Timedelta(self.every) <= pd.Timedelta(0):
                    raise ValueError
            except ValueError as exc:
                raise ConfigurationError(f"windows: every={self.every!r} is not a positive "
                                         "duration (e.g. '1D', '6h')") from exc


@dataclass
class Window:
    """One window's rows with the labels known for it."""

    id: str
    start: pd.Timestamp
    end: pd.Timestamp
    frame: pd.DataFrame  # prediction rows; target column filled where a label is known
    labelled: int = 0
    matured: bool = False

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def coverage(self) -> float:
        return self.labelled / self.rows if self.rows else 0.0


def _to_utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def cut_windows(predictions: pd.DataFrame, contract: DataContract, spec: WindowSpec
                ) -> list[Window]:
    """Tumbling windows in time order (empty time buckets are skipped)."""
    # BEGIN SOLUTION
    frame = predictions.copy()
    frame[contract.timestamp_column] = _to_utc(frame[contract.timestamp_column])
    frame = frame.sort_values(contract.timestamp_column, kind="stable").reset_index(drop=True)
    stamps = frame[contract.timestamp_column]
    windows: list[Window] = []
    if spec.rows is not None:
        for start in range(0, len(frame), spec.rows):
            part = frame.iloc[start:start + spec.rows].reset_index(drop=True)
            windows.append(Window(f"rows-{start:08d}", part[contract.timestamp_column].iloc[0],
                                  part[contract.timestamp_column].iloc[-1], part))
        return windows
    step = pd.Timedelta(spec.every)
    buckets = stamps.dt.floor(step)  # aligned to the epoch: the same rows, whatever the log
    for start, part in frame.groupby(buckets, sort=True):
        start_ts = pd.Timestamp(start)
        windows.append(Window(start_ts.strftime("%Y-%m-%dT%H:%M:%SZ"), start_ts,
                              start_ts + step, part.reset_index(drop=True)))
    return windows
    # END SOLUTION


def check_label_ids(predictions: pd.DataFrame, labels: pd.DataFrame,
                    contract: DataContract) -> None:
    """Labels for ids the log never had mean a broken join upstream: refuse them."""
    known = set(predictions[contract.id_column].astype(str))
    unknown = labels.loc[~labels[contract.id_column].astype(str).isin(known), contract.id_column]
    if len(unknown):
        sample = ", ".join(str(v) for v in unknown.iloc[:3])
        raise UnknownLabelsError(f"labels: {len(unknown)} label(s) for unknown "
                                 f"{contract.id_column} (e.g. {sample})")


def join_labels(window: Window, labels: pd.DataFrame, contract: DataContract,
                as_of: pd.Timestamp, grace: timedelta) -> Window:
    """`window` with the target filled from labels known by min(as_of, end + grace)."""
    # BEGIN SOLUTION
    cutoff = min(pd.Timestamp(as_of), window.end + pd.Timedelta(grace))
    arrived = labels.loc[_to_utc(labels["label_timestamp"]) <= cutoff,
                         [contract.id_column, contract.target]]
    arrived = arrived.drop_duplicates(contract.id_column, keep="last")  # a corrected label wins
    frame = window.frame.drop(columns=[contract.target], errors="ignore")
    frame = frame.merge(arrived, on=contract.id_column, how="left", validate="one_to_one")
    labelled = int(frame[contract.target].notna().sum())
    matured = pd.Timestamp(as_of) >= window.end + pd.Timedelta(grace)
    return Window(window.id, window.start, window.end, frame, labelled, bool(matured))
    # END SOLUTION
