"""The data contract: which columns a prediction log has, their types and roles.

One object answers both "is this file what the model was trained on?" (`validate`) and "how
does Evidently read it?" (`data_definition`), so the two can never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from driftwatch.errors import BadValuesError, ConfigurationError, SchemaError

if TYPE_CHECKING:
    from evidently import DataDefinition


class DataContract(BaseModel):
    """Columns and roles of a binary classifier's prediction log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id_column: str = "prediction_id"
    timestamp_column: str = "timestamp"
    numerical: tuple[str, ...] = Field(min_length=1)
    categorical: tuple[str, ...] = ()
    target: str = "label"
    prediction: str = "prediction"
    probability: str = "probability"
    threshold: float = Field(default=0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _distinct(self) -> DataContract:
        names = [self.id_column, self.timestamp_column, *self.features, self.target,
                 self.prediction, self.probability]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"columns listed twice: {', '.join(duplicated)}")
        return self

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numerical, *self.categorical)

    @classmethod
    def load(cls, path: Path) -> DataContract:
        """Read a contract from YAML; errors name the file and the field."""
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot read contract ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: invalid YAML: {exc}") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise ConfigurationError(f"{path}: {where}: {first['msg']}") from exc

    def to_yaml(self) -> str:
        data: dict[str, Any] = self.model_dump(mode="json")
        return yaml.safe_dump(data, sort_keys=False)

    def validate_predictions(self, frame: pd.DataFrame, source: str = "predictions") -> None:
        """Raise `SchemaError`/`BadValuesError` unless `frame` satisfies the contract.

        Checked: every column present; numerical columns numeric (NaN allowed: missing
        values are a monitored signal, not a schema break); probabilities finite in [0, 1];
        predictions in {0, 1}; ids unique.
        """
        # BEGIN SOLUTION
        required = [self.id_column, self.timestamp_column, *self.features, self.prediction,
                    self.probability]
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise SchemaError(f"{source}: missing column(s) {', '.join(missing)}")
        mistyped = [c for c in (*self.numerical, self.probability, self.prediction)
                    if not pd.api.types.is_numeric_dtype(frame[c])
                    or pd.api.types.is_bool_dtype(frame[c])]
        if mistyped:
            kinds = ", ".join(f"{c} ({frame[c].dtype})" for c in mistyped)
            raise SchemaError(f"{source}: column(s) must be numeric: {kinds}")
        proba = frame[self.probability].to_numpy(dtype=float)
        bad = ~np.isfinite(proba) | (proba < 0) | (proba > 1)
        if bad.any():
            raise BadValuesError(f"{source}: {int(bad.sum())} row(s) have NaN or out-of-range "
                                 f"{self.probability} (first id "
                                 f"{frame.loc[bad, self.id_column].iloc[0]})")
        predicted = frame[self.prediction]
        if not predicted.isin([0, 1]).all():
            raise BadValuesError(f"{source}: {self.prediction} must be 0 or 1")
        if frame[self.id_column].duplicated().any():
            dup = frame.loc[frame[self.id_column].duplicated(), self.id_column].iloc[0]
            raise BadValuesError(f"{source}: duplicate {self.id_column} {dup!r}")
        # END SOLUTION

    def validate_labels(self, frame: pd.DataFrame, source: str = "labels") -> None:
        """Labels need the id, the label (0/1) and when it became known."""
        missing = [c for c in (self.id_column, self.target, "label_timestamp")
                   if c not in frame.columns]
        if missing:
            raise SchemaError(f"{source}: missing column(s) {', '.join(missing)}")
        if not frame[self.target].isin([0, 1]).all():
            raise BadValuesError(f"{source}: {self.target} must be 0 or 1")

    def data_definition(self, with_classification: bool) -> DataDefinition:
        """The Evidently `DataDefinition` for this contract.

        Without labels the probability is monitored as one more numerical column (prediction
        drift); with labels it becomes a `BinaryClassification` with target, predicted
        labels and probabilities.
        """
        from evidently import BinaryClassification, DataDefinition

        if not with_classification:
            return DataDefinition(
                id_column=self.id_column,
                numerical_columns=[*self.numerical, self.probability],
                categorical_columns=list(self.categorical),
            )
        return DataDefinition(
            id_column=self.id_column,
            numerical_columns=list(self.numerical),
            categorical_columns=list(self.categorical),
            classification=[BinaryClassification(
                target=self.target, prediction_labels=self.prediction,
                prediction_probas=self.probability, pos_label=1,
            )],
        )
