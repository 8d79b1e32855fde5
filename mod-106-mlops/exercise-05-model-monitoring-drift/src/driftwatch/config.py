"""driftwatch settings: defaults < config file (YAML/TOML) < DRIFTWATCH_* environment.

Nested sections use `__` in env vars: DRIFTWATCH_AIRFLOW__URL, DRIFTWATCH_WINDOWS__EVERY.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from driftwatch.analysis import AnalysisOptions
from driftwatch.stats import METHODS, DriftThresholds
from driftwatch.windows import WindowSpec


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WindowSettings(_Section):
    every: str | None = "1D"
    rows: int | None = None
    min_rows: int = Field(default=300, ge=1)
    grace_hours: float = Field(default=72, ge=0)

    def spec(self) -> WindowSpec:
        every = None if self.rows is not None else self.every
        return WindowSpec(every=every, rows=self.rows, min_rows=self.min_rows,
                          grace=timedelta(hours=self.grace_hours))


class DriftSettings(_Section):
    numerical_method: str = "ks"
    categorical_method: str = "chisquare"
    per_column_method: dict[str, str] = Field(default_factory=dict)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    ks_floor: float = Field(default=0.05, ge=0)
    chisquare_floor: float = Field(default=0.05, ge=0)
    psi: float = Field(default=0.1, gt=0)
    wasserstein: float = Field(default=0.1, gt=0)
    jensenshannon: float = Field(default=0.1, gt=0)
    multivariate: bool = True
    auc_threshold: float = Field(default=0.55, gt=0.5, lt=1)
    mmd_permutations: int = Field(default=200, ge=19)

    @field_validator("numerical_method", "categorical_method")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"unknown method {value!r} (choose from {', '.join(METHODS)})")
        return value

    @field_validator("per_column_method")
    @classmethod
    def _known_all(cls, value: dict[str, str]) -> dict[str, str]:
        for column, method in value.items():
            if method not in METHODS:
                raise ValueError(f"{column}: unknown method {method!r}")
        return value


class EvidentlySettings(_Section):
    enabled: bool = True
    ui_url: str | None = None
    ui_secret: SecretStr | None = None
    project: str | None = None  # default: driftwatch-<model>
    html: bool = True


class AirflowSettings(_Section):
    url: str | None = None
    username: str = "admin"
    password: SecretStr | None = None
    dag_id: str | None = None  # default: mlw_train_<model>
    retries: int = Field(default=3, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)
    timeout_s: float = Field(default=10, gt=0)


class Settings(ExerciseSettings):
    """Everything `driftwatch` reads; see README "Configuration"."""

    model_config = settings_config(env_prefix="DRIFTWATCH_")

    home: Path = Path(".driftwatch")
    model: str = "credit_default"
    model_version: str = "1"
    contract_file: Path | None = None
    policy_file: Path | None = None
    pushgateway_url: str | None = None
    min_label_coverage: float = Field(default=0.3, ge=0, le=1)
    min_labels: int = Field(default=100, ge=1)
    windows: WindowSettings = WindowSettings()
    drift: DriftSettings = DriftSettings()
    evidently: EvidentlySettings = EvidentlySettings()
    airflow: AirflowSettings = AirflowSettings()

    @property
    def reference_dir(self) -> Path:
        return self.home / "reference"

    @property
    def dag_id(self) -> str:
        return self.airflow.dag_id or f"mlw_train_{self.model}"

    @property
    def project(self) -> str:
        return self.evidently.project or f"driftwatch-{self.model}"

    def analysis_options(self) -> AnalysisOptions:
        d = self.drift
        return AnalysisOptions(
            min_rows=self.windows.min_rows, numerical_method=d.numerical_method,
            categorical_method=d.categorical_method, per_column_method=dict(d.per_column_method),
            thresholds=DriftThresholds(d.alpha, d.ks_floor, d.chisquare_floor, d.psi,
                                       d.wasserstein, d.jensenshannon),
            min_label_coverage=self.min_label_coverage, min_labels=self.min_labels,
            multivariate=d.multivariate, auc_threshold=d.auc_threshold,
            mmd_permutations=d.mmd_permutations)
