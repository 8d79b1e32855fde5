"""Synthetic traffic for a deployed binary classifier, with drift planted on purpose.

Why synthetic: every effect the monitor claims to see is then known exactly. The model's
probability is the true P(y=1 | x) of the generator, so on undrifted data it is calibrated
and CBPE must match realised accuracy; each drift kind breaks a different assumption:

* covariate: P(x) moves (feature means shift), P(y | x) stays -> CBPE still right;
* prior: P(y) moves, P(x | y) stays (rows resampled by class) -> the model's prior is wrong;
* concept: P(y | x) moves (the label rule changes), P(x) stays -> invisible to every input
  statistic and to CBPE, only realised labels show it;
* missing: a share of one column becomes NaN (the model imputes the training mean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from driftwatch.contract import DataContract

DRIFT_KINDS = ("none", "covariate", "prior", "concept", "missing")


@dataclass(frozen=True)
class Feature:
    """One input column: numerical N(mean, std) or categorical with shares; its weight."""

    name: str
    mean: float = 0.0
    std: float = 1.0
    weight: float = 0.0  # log-odds per standard deviation (numerical) or per category
    categories: tuple[str, ...] = ()
    shares: tuple[float, ...] = ()
    category_weights: tuple[float, ...] = ()

    @property
    def is_categorical(self) -> bool:
        return bool(self.categories)


CREDIT_FEATURES: tuple[Feature, ...] = (
    Feature("income", 52_000, 15_000, 0.9),
    Feature("age", 41, 12, 0.3),
    Feature("balance", 8_000, 4_000, -1.1),
    Feature("tenure_months", 48, 24, 0.6),
    Feature("num_products", 2.2, 1.0, 0.0),
    Feature("credit_score", 680, 60, 1.3),
    Feature("region", categories=("north", "south", "east", "west"),
            shares=(0.4, 0.3, 0.2, 0.1), category_weights=(0.0, 0.2, -0.3, 0.1)),
    Feature("channel", categories=("web", "branch", "partner"), shares=(0.6, 0.3, 0.1),
            category_weights=(0.3, 0.0, -0.5)),
)


def wide_features(n_numerical: int = 16, n_categorical: int = 4) -> tuple[Feature, ...]:
    """Generic columns x0..xN, c0..cM (the benchmark's 20-column windows)."""
    nums = tuple(Feature(f"x{i}", 0.0, 1.0, 0.8 if i < 4 else 0.0) for i in range(n_numerical))
    cats = tuple(Feature(f"c{j}", categories=("a", "b", "c"), shares=(0.5, 0.3, 0.2),
                         category_weights=(0.0, 0.0, 0.0)) for j in range(n_categorical))
    return nums + cats


@dataclass(frozen=True)
class Drift:
    """A planted drift: what kind, how strong, which columns."""

    kind: str = "none"
    strength: float = 1.0  # std shifts (covariate), new prior (prior), NaN share (missing)
    columns: tuple[str, ...] = ()


@dataclass
class Simulator:
    """Draws rows for `features` with a fixed logistic model; seeded, reproducible."""

    features: tuple[Feature, ...] = CREDIT_FEATURES
    intercept: float = -0.4
    seed: int = 7
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def contract(self) -> DataContract:
        return DataContract(
            numerical=tuple(f.name for f in self.features if not f.is_categorical),
            categorical=tuple(f.name for f in self.features if f.is_categorical),
        )

    # ---------------------------------------------------------------- generation
    def _inputs(self, n: int, shifts: dict[str, float]) -> pd.DataFrame:
        data: dict[str, np.ndarray] = {}
        for f in self.features:
            if f.is_categorical:
                shares = np.asarray(f.shares, dtype=float)
                if f.name in shifts:  # covariate drift on a categorical: reverse the shares
                    shares = shares[::-1]
                data[f.name] = self._rng.choice(np.asarray(f.categories), size=n, p=shares)
            else:
                mean = f.mean + shifts.get(f.name, 0.0) * f.std
                data[f.name] = self._rng.normal(mean, f.std, size=n)
        return pd.DataFrame(data)

    def log_odds(self, frame: pd.DataFrame, concept: bool = False) -> np.ndarray:
        """The model's log-odds; `concept=True` is the changed world's label rule.

        NaN inputs are imputed with the training mean (a standard-scaled 0), as the
        deployed model would.
        """
        z = np.full(len(frame), self.intercept)
        for f in self.features:
            sign = -1.0 if concept and f.weight != 0 else 1.0  # the concept flips
            if f.is_categorical:
                lookup = dict(zip(f.categories, f.category_weights, strict=True))
                z += frame[f.name].map(lookup).fillna(0.0).to_numpy(dtype=float)
            elif f.weight:
                scaled = (frame[f.name].to_numpy(dtype=float) - f.mean) / f.std
                z += sign * f.weight * np.nan_to_num(scaled, nan=0.0)
        return z

    def sample(self, n: int, drift: Drift | None = None) -> pd.DataFrame:
        """`n` rows with features, `probability`, `prediction` and the true `label`."""
        drift = drift or Drift()
        if drift.kind not in DRIFT_KINDS:
            raise ValueError(f"unknown drift kind {drift.kind!r} (choose {DRIFT_KINDS})")
        shifts = ({c: drift.strength for c in drift.columns or self._informative()[:2]}
                  if drift.kind == "covariate" else {})
        pool = n * 4 if drift.kind == "prior" else n
        frame = self._inputs(pool, shifts)
        if drift.kind == "missing":
            for column in drift.columns or self._informative()[:1]:
                mask = self._rng.random(pool) < drift.strength
                frame.loc[mask, column] = np.nan
        proba = 1.0 / (1.0 + np.exp(-self.log_odds(frame)))
        truth = (1.0 / (1.0 + np.exp(-self.log_odds(frame, concept=True)))
                 if drift.kind == "concept" else proba)
        label = (self._rng.random(pool) < truth).astype(int)
        frame["probability"] = proba
        frame["prediction"] = (proba >= 0.5).astype(int)
        frame["label"] = label
        if drift.kind == "prior":  # resample by class: P(x | y) fixed, P(y) = strength
            target = min(max(drift.strength, 0.01), 0.99)
            positives = np.flatnonzero(label == 1)
            negatives = np.flatnonzero(label == 0)
            n_pos = min(round(n * target), len(positives))
            n_neg = min(n - n_pos, len(negatives))
            keep = np.concatenate([self._rng.choice(positives, n_pos, replace=False),
                                   self._rng.choice(negatives, n_neg, replace=False)])
            frame = frame.iloc[np.sort(keep)].reset_index(drop=True)
        return frame

    def _informative(self) -> list[str]:
        return [f.name for f in self.features if not f.is_categorical and f.weight]


@dataclass(frozen=True)
class DayPlan:
    """One simulated day of traffic."""

    rows: int
    drift: Drift = Drift()


def week_plan(rows_per_day: int = 1500) -> list[DayPlan]:
    """The demo week: three quiet days, then covariate drift that grows, then concept drift."""
    quiet = [DayPlan(rows_per_day) for _ in range(3)]
    covariate = [DayPlan(rows_per_day, Drift("covariate", s, ("income", "credit_score")))
                 for s in (0.6, 0.9)]
    concept = [DayPlan(rows_per_day, Drift("concept", 1.0)) for _ in range(2)]
    return quiet + covariate + concept


def traffic(sim: Simulator, plan: list[DayPlan], start: datetime,
            label_delay: timedelta = timedelta(hours=36),
            label_share: float = 0.9) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The prediction log and the labels that arrive later for it.

    Each day's rows get timestamps spread over that day; a `label_share` of them get their
    label `label_delay` later (plus up to 12 h of jitter); the rest never get one.
    """
    # BEGIN SOLUTION
    predictions: list[pd.DataFrame] = []
    labels: list[pd.DataFrame] = []
    rng = np.random.default_rng(sim.seed + 1)
    counter = 0
    for day, item in enumerate(plan):
        frame = sim.sample(item.rows, item.drift)
        offsets = np.sort(rng.uniform(0, 86_400, size=len(frame)))
        stamps = pd.Timestamp(start) + pd.to_timedelta(day * 86_400 + offsets, unit="s")
        frame.insert(0, "timestamp", stamps)
        frame.insert(0, "prediction_id", [f"p{counter + i:07d}" for i in range(len(frame))])
        counter += len(frame)
        labelled = rng.random(len(frame)) < label_share
        jitter = pd.to_timedelta(rng.uniform(0, 12 * 3600, size=int(labelled.sum())), unit="s")
        arrived = frame.loc[labelled, "timestamp"].reset_index(drop=True) + label_delay
        labels.append(pd.DataFrame({
            "prediction_id": frame.loc[labelled, "prediction_id"].to_numpy(),
            "label": frame.loc[labelled, "label"].to_numpy(),
            "label_timestamp": arrived + pd.Series(jitter),
        }))
        predictions.append(frame.drop(columns=["label"]))
    return (pd.concat(predictions, ignore_index=True),
            pd.concat(labels, ignore_index=True).sort_values("label_timestamp",
                                                             ignore_index=True))
    # END SOLUTION
