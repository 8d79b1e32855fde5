"""Where each cloud/env lives and how its state is addressed (pure: paths are computed, not read).

Layout (Terragrunt-style, without Terragrunt):
    terraform/modules/<cloud>/ml-platform     one module per cloud, one shared interface
    terraform/envs/<cloud>/<env>              a root per cloud and env: backend, provider, tfvars
State: one key per cloud/env in one versioned bucket (`aws/dev/terraform.tfstate`), so a bad
apply of one env never touches another's state and rollbacks are per env.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cloudml.errors import UsageError

CLOUDS = ("aws", "gcp", "azure")
ENVS = ("dev", "staging", "prod")
TFVARS = "terraform.tfvars"
# Clouds whose provider is in the local mirror: the others can be checked statically only.
RUNNABLE_CLOUDS = ("aws",)


@dataclass(frozen=True)
class Target:
    """One deployment: a cloud and an environment."""

    cloud: str
    env: str

    @property
    def label(self) -> str:
        return f"{self.cloud}/{self.env}"

    @property
    def slug(self) -> str:
        return f"{self.cloud}-{self.env}"

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"


def parse_target(cloud: str, env: str) -> Target:
    """Validate names before anything touches terraform: unknown ones are a usage error."""
    # BEGIN SOLUTION: lowercase both; unknown cloud or env raises UsageError naming the choices
    cloud, env = cloud.strip().lower(), env.strip().lower()
    if cloud not in CLOUDS:
        raise UsageError(f"unknown cloud {cloud!r}: choose one of {', '.join(CLOUDS)}")
    if env not in ENVS:
        raise UsageError(f"unknown env {env!r}: choose one of {', '.join(ENVS)}")
    return Target(cloud, env)
    # END SOLUTION


def root_dir(terraform_dir: Path, target: Target) -> Path:
    """The root module of a target: terraform/envs/<cloud>/<env>."""
    return Path(terraform_dir) / "envs" / target.cloud / target.env


def module_dir(terraform_dir: Path, cloud: str) -> Path:
    """The platform module of a cloud: terraform/modules/<cloud>/ml-platform."""
    return Path(terraform_dir) / "modules" / cloud / "ml-platform"


def state_key(target: Target) -> str:
    """The object key of a target's state in the state bucket."""
    return f"{target.cloud}/{target.env}/terraform.tfstate"


def lock_key(target: Target) -> str:
    """S3-native locking (`use_lockfile = true`) writes this object next to the state."""
    return state_key(target) + ".tflock"


@dataclass(frozen=True)
class StateStore:
    """Where states live, per cloud: an S3 bucket, a GCS bucket, an Azure blob container."""

    s3_bucket: str
    s3_region: str = "us-east-1"
    gcs_bucket: str = ""
    azure_resource_group: str = ""
    azure_storage_account: str = ""
    azure_container: str = "tfstate"


def backend_config(target: Target, store: StateStore) -> dict[str, str]:
    """`-backend-config` values for a target's partial backend block.

    S3: versioned, encrypted, S3-native lock file (no DynamoDB table); GCS locks natively;
    azurerm locks with blob leases. Each cloud's state stays in that cloud.
    """
    # BEGIN SOLUTION: s3 (key, encrypt, use_lockfile), gcs (prefix), azurerm (container, key)
    if target.cloud == "aws":
        return {"bucket": store.s3_bucket, "key": state_key(target), "region": store.s3_region,
                "encrypt": "true", "use_lockfile": "true"}
    if target.cloud == "gcp":
        return {"bucket": store.gcs_bucket or f"{store.s3_bucket}-gcp",
                "prefix": f"{target.cloud}/{target.env}"}
    return {"resource_group_name": store.azure_resource_group or "tfstate",
            "storage_account_name": store.azure_storage_account or "cloudmltfstate",
            "container_name": store.azure_container, "key": state_key(target),
            "use_azuread_auth": "true"}
    # END SOLUTION
