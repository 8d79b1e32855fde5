"""Settings for pulumiml: defaults < config file (`--config`, `PULUMIML_CONFIG`) < environment
(prefix `PULUMIML_`). The passphrase is Pulumi's own `PULUMI_CONFIG_PASSPHRASE` (or
`PULUMI_CONFIG_PASSPHRASE_FILE`), never a setting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field

from pulumiml.errors import PassphraseError


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="PULUMIML_")

    #: Directory holding `Pulumi.<cloud>-<env>.yaml` and `policy/<env>.json`.
    infra_dir: Path = Path("infra")
    #: `emulated` (mocked programs, file backend, JSON cloud) or `pulumi` (Automation API + CLI).
    engine: Literal["emulated", "pulumi"] = "emulated"
    #: The state backend; the emulated engine supports file:// only.
    backend_url: str = "file://.pulumiml/backend"
    #: Working files of the real engine (policy config per stack).
    work_dir: Path = Path(".pulumiml")
    #: The policy pack directory given to the real engine (`--policy-pack`).
    policy_pack_dir: Path = Path("policypack")
    #: Stacks run at once by `--all` (independent stacks only).
    parallelism: int = Field(default=4, ge=1, le=32)


def passphrase() -> str | None:
    """`PULUMI_CONFIG_PASSPHRASE`, else the contents of `PULUMI_CONFIG_PASSPHRASE_FILE`."""
    value = os.environ.get("PULUMI_CONFIG_PASSPHRASE")
    if value:
        return value
    file_name = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip() or None
        except OSError as exc:
            raise PassphraseError(f"PULUMI_CONFIG_PASSPHRASE_FILE {file_name}: cannot read "
                                  f"({exc.strerror})") from exc
    return None
