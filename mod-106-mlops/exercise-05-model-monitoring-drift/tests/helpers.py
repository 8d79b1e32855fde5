"""Small builders the tests share: seeded samples, windows, a reference profile."""

from __future__ import annotations

import pandas as pd

from driftwatch.reference import ReferenceProfile, build_reference
from driftwatch.simulate import Drift, Simulator
from driftwatch.windows import Window

AS_OF = pd.Timestamp("2026-06-01", tz="UTC")


def with_ids(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "timestamp", AS_OF - pd.Timedelta(days=10))
    frame.insert(0, "prediction_id", [f"{prefix}{i:07d}" for i in range(len(frame))])
    return frame


def reference(seed: int = 1, rows: int = 4000) -> ReferenceProfile:
    sim = Simulator(seed=seed)
    return build_reference(with_ids(sim.sample(rows), "t"), sim.contract())


def window(seed: int, rows: int, drift: Drift | None = None, labelled: bool = True
           ) -> Window:
    frame = with_ids(Simulator(seed=seed).sample(rows, drift), "w")
    if not labelled:
        frame["label"] = float("nan")
    return Window("w", AS_OF - pd.Timedelta(days=10), AS_OF - pd.Timedelta(days=9), frame,
                  int(frame["label"].notna().sum()), True)
