"""A consumer root that takes a module from the private registry (demo, tests, benchmark)."""

from __future__ import annotations

import json
from pathlib import Path

from aiinfra_shared.procs.terraform import Terraform, moto_provider_hcl

from tfml.registry import RegistryServer
from tfml.runner import make_terraform
from tfml.tls import TlsFiles


def consumer_terraform(work_dir: Path, server: RegistryServer, tls: TlsFiles, host: str,
                       timeout: float = 600.0) -> Terraform:
    """terraform whose CLI config maps `host` to the loopback registry and trusts its CA."""
    tf = make_terraform(work_dir, timeout=timeout,
                        hosts={host: {"modules.v1": server.modules_url}})
    return tf.with_env(SSL_CERT_FILE=str(tls.ca_cert), SSL_CERT_DIR="")


def write_object_store_consumer(root: Path, *, host: str, namespace: str, constraint: str,
                                bucket: str, moto: bool = True,
                                kms_key_arn: str | None = None) -> Path:
    """A root that uses `HOST/NAMESPACE/object-store/aws` at `constraint` (with the
    platform's KMS key when `kms_key_arn` is given, else the module makes its own)."""
    root.mkdir(parents=True, exist_ok=True)
    key_line = f"  kms_key_arn             = {json.dumps(kms_key_arn)}\n" if kms_key_arn else ""
    (root / "main.tf").write_text(f"""terraform {{
  required_version = ">= 1.7, < 2.0"
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }}
  }}
}}

module "artifacts" {{
  source                  = "{host}/{namespace}/object-store/aws"
  version                 = {json.dumps(constraint)}
  name                    = {json.dumps(bucket)}
{key_line}  noncurrent_version_days = null
  tags                    = {{ cost-center = "ml-platform" }}
}}

output "bucket" {{
  description = "The consumer's bucket."
  value       = module.artifacts.bucket
}}
""")
    if moto:
        (root / "provider.tf").write_text(moto_provider_hcl())
    return root


def installed_version(root: Path, module: str = "artifacts") -> str | None:
    """The version `terraform init` picked, from .terraform/modules/modules.json."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    if not manifest.is_file():
        return None
    for entry in json.loads(manifest.read_text()).get("Modules", []):
        if entry.get("Key") == module:
            return str(entry.get("Version") or "") or None
    return None
