"""Settings for mlworkflows: defaults < config file < environment (prefix MLWORKFLOWS_).

The same object is read by the CLI and by the DAG files inside Airflow's processes, so
everything a task needs (where the workspace lives, where alerts go) comes from here and the
environment the scheduler was started with, never from module-level constants.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from aiinfra_shared.config import ConfigError, ExerciseSettings, settings_config
from pydantic import AliasChoices, Field


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="MLWORKFLOWS_")

    home: Path = Field(default=Path(".mlworkflows"),
                       description="workspace: incoming data, registry, predictions")
    configs_dir: Path = Field(default=Path("configs"), description="model configs (*.yaml)")
    dags_folder: Path = Field(default=Path("dags"), description="the DAG files Airflow loads")
    webhook_url: str | None = Field(default=None, description="Slack-compatible webhook")
    alert_email_to: str | None = Field(
        default=None, description="comma-separated recipients of alert e-mails (needs smtp_host)")
    alert_email_from: str = Field(default="mlworkflows@localhost", min_length=3)
    smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mails")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = Field(default=False, description="STARTTLS before logging in")
    smtp_user: str | None = None
    smtp_password: str = ""
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    drift_threshold: float = Field(default=0.2, gt=0, description="max PSI before retraining")
    deadline_minutes: float = Field(default=30.0, gt=0,
                                    description="Deadline Alert: minutes after queueing")
    api_url: str = "http://127.0.0.1:8080"
    api_username: str = "admin"
    api_password: str = Field(default="", description="or read from api_passwords_file")
    api_passwords_file: Path | None = Field(
        default=None, description="JSON {user: password}, e.g. the one airflow standalone writes")
    api_timeout_s: float = Field(default=10.0, gt=0)
    default_sla_seconds: float = Field(default=600.0, gt=0)
    sla_targets: dict[str, float] = Field(
        default_factory=dict, description="dag_id glob -> max run duration in seconds")
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking URI: when set, models are registered there",
        validation_alias=AliasChoices("mlflow_tracking_uri", "MLWORKFLOWS_MLFLOW_TRACKING_URI",
                                      "MLFLOW_TRACKING_URI"))
    mlflow_experiment: str = Field(default="mlworkflows", min_length=1,
                                   description="MLflow experiment the training runs go to")
    mlflow_artifact_location: str | None = Field(
        default=None, description="artifact root for a new experiment (URI or local directory)")
    mlflow_alias: str = Field(default="champion", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$",
                              description="registered-model alias that marks production")

    def alert_recipients(self) -> list[str]:
        """Alert e-mail recipients; empty (no e-mail) unless both recipients and host are set."""
        if not self.smtp_host or not self.alert_email_to:
            return []
        return [r.strip() for r in self.alert_email_to.split(",") if r.strip()]

    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    def sla_target_for(self, dag_id: str) -> float:
        """The first glob in `sla_targets` that matches wins; else the default."""
        for pattern, seconds in self.sla_targets.items():
            if fnmatch.fnmatchcase(dag_id, pattern):
                return seconds
        return self.default_sla_seconds

    def api_credentials(self) -> tuple[str, str]:
        """Username and password: explicit password first, else the passwords file."""
        import json

        if self.api_password:
            return self.api_username, self.api_password
        if self.api_passwords_file is not None:
            try:
                passwords = json.loads(self.api_passwords_file.read_text())
            except (OSError, ValueError) as exc:
                raise ConfigError(
                    f"{self.api_passwords_file}: cannot read passwords ({exc})") from exc
            if self.api_username in passwords:
                return self.api_username, str(passwords[self.api_username])
            raise ConfigError(f"{self.api_passwords_file}: no password for {self.api_username!r}")
        raise ConfigError("no Airflow API password: set MLWORKFLOWS_API_PASSWORD or "
                          "MLWORKFLOWS_API_PASSWORDS_FILE")
