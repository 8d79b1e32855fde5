"""The dated price table: a typed model and its loader (the only file I/O of pricing)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudml.errors import InputError

DEFAULT_TABLE = "aws-us-east-1.yaml"


class PriceTable(BaseModel):
    """Prices in one currency and region, valid as of a date."""

    model_config = ConfigDict(extra="forbid")

    as_of: str
    currency: str = "USD"
    region: str
    hours_per_month: float = Field(730, gt=0)
    hourly: dict[str, float] = Field(default_factory=dict)
    monthly: dict[str, float] = Field(default_factory=dict)
    sagemaker_hosting: dict[str, float] = Field(default_factory=dict)
    sagemaker_notebook: dict[str, float] = Field(default_factory=dict)
    sagemaker_storage_gb_month: float = 0.0
    usage_based: list[str] = Field(default_factory=list)
    free: list[str] = Field(default_factory=list)


def load_price_table(path: Path | None = None) -> PriceTable:
    """Read a table (default: the one shipped in the package); errors name the file."""
    if path is None:
        text = resources.files("cloudml.pricing").joinpath(DEFAULT_TABLE).read_text()
        source = f"cloudml/pricing/{DEFAULT_TABLE}"
    else:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise InputError(f"{path}: cannot read price table ({exc.strerror})") from exc
        source = str(path)
    try:
        return PriceTable.model_validate(yaml.safe_load(text) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()
        detail = "; ".join(line.strip() for line in first[:3])
        raise InputError(f"{source}: invalid price table: {detail}") from exc
