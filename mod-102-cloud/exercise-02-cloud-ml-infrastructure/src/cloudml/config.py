"""Settings for cloudml: defaults < config file (--config / CLOUDML_CONFIG) < env (CLOUDML_*).

AWS credentials and endpoints are not settings: boto3 and the AWS provider read the standard
variables (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...), which is what lets the same commands
run against moto on a laptop and against a real account in CI.
"""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="CLOUDML_")

    terraform_dir: Path = Field(Path("terraform"),
                                description="Folder holding modules/ and envs/.")
    work_dir: Path = Field(Path(".cloudml"),
                           description="Per-target .terraform dirs, saved plans, cost records.")
    state_bucket: str = Field("cloudml-tfstate", description="S3 bucket of the AWS states.")
    state_region: str = "us-east-1"
    gcs_bucket: str = Field("", description="GCS bucket of GCP states (<state_bucket>-gcp).")
    azure_resource_group: str = "tfstate"
    azure_storage_account: str = "cloudmltfstate"
    azure_container: str = "tfstate"
    plan_max_age_minutes: float = Field(30.0, gt=0, description="Older saved plans are stale.")
    lock_stale_after_minutes: float = Field(15.0, gt=0,
                                            description="Locks older than this may be released.")
    terraform_timeout: float = Field(1800.0, gt=0, description="Seconds per terraform command.")
    parallelism: int = Field(10, ge=1, le=256, description="terraform -parallelism.")
    price_table: Path | None = Field(None, description="Price table YAML (default: shipped).")
