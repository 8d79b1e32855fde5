"""Model configs (`configs/*.yaml`): one generated training DAG per file.

Validation is strict (unknown keys rejected) and every error names the file, because the DAG
file turns it into an Airflow import error: a typo must be visible in the UI, never a DAG that
silently vanished.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from aiinfra_shared.config import format_validation_error
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ModelType = Literal["logistic_regression", "random_forest", "gradient_boosting"]
Metric = Literal["accuracy", "f1", "roc_auc"]

HYPERPARAMETERS: dict[str, set[str]] = {
    "logistic_regression": {"C", "max_iter"},
    "random_forest": {"n_estimators", "max_depth", "min_samples_leaf"},
    "gradient_boosting": {"n_estimators", "max_depth", "learning_rate"},
}


class ModelConfigError(Exception):
    """A config file is missing, unparsable or invalid; `str()` names the file."""


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accuracy: float = Field(default=0.0, ge=0, le=1)
    f1: float = Field(default=0.0, ge=0, le=1)
    roc_auc: float = Field(default=0.0, ge=0, le=1)


class Resources(BaseModel):
    """Kubernetes resources of the training pod (only used by the KubernetesPodOperator path)."""

    model_config = ConfigDict(extra="forbid")
    cpu: str = "1"
    memory: str = "2Gi"
    gpus: int = Field(default=0, ge=0)
    node_selector: dict[str, str] = Field(default_factory=dict)
    image: str = "ghcr.io/example/mlworkflows:0.1.0"
    namespace: str = "ml-training"


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    model_type: ModelType
    trials: list[dict[str, float | int | None]] = Field(min_length=1, max_length=16)
    primary_metric: Metric = "roc_auc"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    max_regression: float = Field(default=0.0, ge=0, le=1,
                                  description="allowed drop of the primary metric vs production")
    test_size: float = Field(default=0.25, gt=0.05, lt=0.9)
    seed: int = 42
    executor: Literal["local", "kubernetes"] = "local"
    resources: Resources = Field(default_factory=Resources)
    owner: str = "ml-platform"
    tags: list[str] = Field(default_factory=list)
    source_file: str | None = Field(default=None, exclude=True)

    @field_validator("trials")
    @classmethod
    def _known_hyperparameters(cls, trials: list[dict[str, Any]],
                               info: Any) -> list[dict[str, Any]]:
        # BEGIN SOLUTION: reject hyperparameters the model_type does not know, naming the trial
        model_type = info.data.get("model_type")
        allowed = HYPERPARAMETERS.get(model_type or "", set())
        for index, trial in enumerate(trials):
            unknown = sorted(set(trial) - allowed)
            if model_type and unknown:
                raise ValueError(f"trial {index}: unknown hyperparameter(s) {', '.join(unknown)} "
                                 f"for {model_type} (allowed: {', '.join(sorted(allowed))})")
        return trials
        # END SOLUTION

    @property
    def training_dag_id(self) -> str:
        return f"mlw_train_{self.name}"

    @property
    def inference_dag_id(self) -> str:
        return f"mlw_inference_{self.name}"

    @property
    def monitoring_dag_id(self) -> str:
        return f"mlw_monitor_{self.name}"


def load_model_config(path: Path) -> ModelConfig:
    # BEGIN SOLUTION: read YAML and validate; every ModelConfigError message names the file
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ModelConfigError(f"{path}: cannot read model config ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ModelConfigError(f"{path}: invalid YAML{where}") from exc
    if not isinstance(raw, dict):
        raise ModelConfigError(f"{path}: expected a mapping at the top level")
    try:
        config = ModelConfig.model_validate(raw)
    except ValidationError as exc:
        raise ModelConfigError(format_validation_error(exc, str(path)).replace("\n", "; ")) from exc
    return config.model_copy(update={"source_file": str(path)})
    # END SOLUTION


def load_model_configs(directory: Path) -> list[ModelConfig]:
    """All configs, sorted by file name; the first invalid file raises, naming itself."""
    configs, errors = load_model_configs_isolated(directory)
    if errors:
        raise errors[0]
    return configs


def load_model_configs_isolated(directory: Path) -> tuple[list[ModelConfig],
                                                          list[ModelConfigError]]:
    """(valid configs, one error per invalid file): a bad file never hides the good ones.

    A second file reusing a model name is the invalid one (files are read in name order), so
    the model that was already deployed keeps its DAGs. A missing directory still raises.
    """
    if not directory.is_dir():
        raise ModelConfigError(f"{directory}: model config directory does not exist")
    # BEGIN SOLUTION: load each file on its own; collect errors instead of stopping at one
    configs: list[ModelConfig] = []
    errors: list[ModelConfigError] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            config = load_model_config(path)
        except ModelConfigError as exc:
            errors.append(exc)
            continue
        if config.name in seen:
            errors.append(ModelConfigError(f"{path}: model name {config.name!r} is already "
                                           f"used by {seen[config.name]}"))
            continue
        seen[config.name] = str(path)
        configs.append(config)
    return configs, errors
    # END SOLUTION


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
