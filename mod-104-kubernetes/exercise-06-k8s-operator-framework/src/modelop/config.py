"""Settings for modelop: defaults < config file < environment (prefix MODELOP_).

e.g. `MODELOP_RESYNC_SECONDS=5`, `MODELOP_PROMETHEUS_URL=http://prometheus:9090`,
`MODELOP_WEBHOOK__ENABLED=true`. The operator reads them once at start.
"""

from __future__ import annotations

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, Field

from modelop.gates import DEFAULT_ERROR_RATE_QUERY, DEFAULT_P95_QUERY


class WebhookSettings(BaseModel):
    """kopf's webhook server. In a cluster: TLS with a certificate for the Service name;
    `insecure` (plain HTTP) exists for local runs and tests only."""

    enabled: bool = False
    addr: str = "0.0.0.0"
    host: str | None = None  # the name written into the webhook configuration
    port: int = 9443
    insecure: bool = False
    certfile: str | None = None
    pkeyfile: str | None = None
    managed: str = "modelop.aiinfra.dev"  # the (Validating|Mutating)WebhookConfiguration


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="MODELOP_")

    resync_seconds: float = Field(default=30.0, gt=0,
                                  description="timer: repair drift, step canaries")
    diff_before_write: bool = Field(default=True,
                                    description="false = patch every child every resync")
    prometheus_url: str | None = None
    error_rate_query: str = DEFAULT_ERROR_RATE_QUERY
    p95_query: str = DEFAULT_P95_QUERY
    metrics_port: int = Field(default=8080, ge=0, le=65535, description="0 disables /metrics")
    metrics_addr: str = "0.0.0.0"
    cache_namespace: str = "default"
    cache_configmap: str = "modelop-model-cache"
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
