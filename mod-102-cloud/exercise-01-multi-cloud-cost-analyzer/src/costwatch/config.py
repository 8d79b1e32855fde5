"""Settings for costwatch: defaults < config file (YAML/TOML) < environment (COSTWATCH_...).

Nested keys use `__` in the environment: COSTWATCH_SMTP__PORT=2525, COSTWATCH_AWS__REGION.
Every default works offline with the bundled sample: `make run` needs no configuration.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, Field

from costwatch.anomalies import DetectorConfig
from costwatch.budgets import Budget
from costwatch.currency import RateTable, load_rates


class AwsSettings(BaseModel):
    region: str = "us-east-1"
    endpoint_url: str | None = None  # e.g. a moto server; None = real AWS
    group_by: list[str] = Field(default_factory=lambda: ["SERVICE", "LINKED_ACCOUNT"])


class GcpSettings(BaseModel):
    project: str | None = None
    table: str | None = None  # project.dataset.gcp_billing_export_v1_XXXX
    kind: Literal["standard", "focus"] = "standard"
    labels: list[str] = Field(default_factory=lambda: ["team"])
    catalog_services: list[str] = Field(default_factory=list)
    api_endpoint: str | None = None  # for a local stand-in; None = Google's endpoints


class AzureSettings(BaseModel):
    scope: str | None = None  # /subscriptions/<id>
    token: str | None = None  # bearer token (az account get-access-token)
    base_url: str | None = None
    group_by: list[str] = Field(default_factory=lambda: ["ServiceName", "ResourceGroupName"])
    tag_key: str | None = None


class AnomalySettings(BaseModel):
    baseline_weeks: int = Field(default=4, ge=2, le=12)
    z_threshold: float = Field(default=3.5, gt=0)
    min_impact: float = Field(default=50.0, ge=0)

    def detector(self) -> DetectorConfig:
        return DetectorConfig(baseline_weeks=self.baseline_weeks,
                              z_threshold=self.z_threshold, min_impact=self.min_impact)


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "costwatch@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False


class ReportSettings(BaseModel):
    name: str
    cron: str = "0 8 * * *"  # crontab syntax, in `timezone`
    period: Literal["daily", "weekly", "monthly"] = "daily"
    format: Literal["html", "markdown"] = "html"
    email_to: list[str] = Field(default_factory=list)
    webhook_url: str | None = None


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="COSTWATCH_")

    store: Path = Path("costwatch.duckdb")
    reporting_currency: str = "USD"
    currency_file: Path | None = None  # None: the bundled table (data/currency.csv)
    tag_key: str = "team"
    shared_tag_values: list[str] = Field(default_factory=lambda: ["shared"])
    shared_services: list[str] = Field(default_factory=list)
    anomaly: AnomalySettings = Field(default_factory=AnomalySettings)
    budgets: list[Budget] = Field(default_factory=list)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    gcp: GcpSettings = Field(default_factory=GcpSettings)
    azure: AzureSettings = Field(default_factory=AzureSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    reports: list[ReportSettings] = Field(default_factory=list)
    scheduler_db: Path = Path("costwatch-scheduler.sqlite")
    timezone: str = "UTC"
    misfire_grace_s: int = Field(default=3600, ge=1)
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8050

    def rates(self) -> RateTable:
        if self.currency_file is not None:
            return load_rates(self.currency_file)
        with resources.as_file(resources.files("costwatch") / "data/currency.csv") as path:
            return load_rates(path)

    def report(self, name: str) -> ReportSettings | None:
        return next((r for r in self.reports if r.name == name), None)
