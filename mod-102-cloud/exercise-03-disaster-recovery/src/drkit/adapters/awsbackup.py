"""The same retention policy in its cloud-native form: an AWS Backup plan and a locked
vault. On moto these are stored and read back; nothing runs them (README says so)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from drkit.errors import UnavailableError
from drkit.retention import RetentionPolicy


def backup_plan_document(policy: RetentionPolicy, vault: str) -> dict[str, Any]:
    """GFS as AWS Backup rules: daily, weekly (Sunday) and monthly (1st) with lifecycles."""
    rules = [
        {"RuleName": "daily", "TargetBackupVaultName": vault,
         "ScheduleExpression": "cron(0 3 ? * * *)",
         "Lifecycle": {"DeleteAfterDays": max(policy.daily, policy.lock_days, 1)}},
        {"RuleName": "weekly", "TargetBackupVaultName": vault,
         "ScheduleExpression": "cron(0 4 ? * SUN *)",
         "Lifecycle": {"DeleteAfterDays": max(policy.weekly * 7, policy.lock_days, 1)}},
        {"RuleName": "monthly", "TargetBackupVaultName": vault,
         "ScheduleExpression": "cron(0 5 1 * ? *)",
         "Lifecycle": {"DeleteAfterDays": max(policy.monthly * 31, policy.lock_days, 1)}},
    ]
    return {"BackupPlanName": "drkit-metadata-db", "Rules": rules}


def apply_backup_plan(endpoint_url: str, region: str, policy: RetentionPolicy,
                      vault: str = "drkit-dr-vault") -> dict[str, Any]:
    """Create the vault, lock it (min = Object Lock days) and store the plan."""
    kwargs: dict[str, Any] = {"region_name": region}
    if endpoint_url:
        kwargs.update(endpoint_url=endpoint_url, aws_access_key_id="testing",
                      aws_secret_access_key="testing")  # noqa: S106 (moto)
    client = boto3.client("backup", **kwargs)
    try:
        existing = {v["BackupVaultName"] for v in client.list_backup_vaults()["BackupVaultList"]}
        if vault not in existing:
            client.create_backup_vault(BackupVaultName=vault)
        client.put_backup_vault_lock_configuration(
            BackupVaultName=vault, MinRetentionDays=max(policy.lock_days, 1),
            MaxRetentionDays=max(policy.monthly * 31, policy.lock_days, 1))
        document: Any = backup_plan_document(policy, vault)
        plan = client.create_backup_plan(BackupPlan=document)
        described = client.describe_backup_vault(BackupVaultName=vault)
    except (BotoCoreError, ClientError) as exc:
        raise UnavailableError(f"AWS Backup unreachable: {type(exc).__name__}") from exc
    return {"plan_id": plan["BackupPlanId"], "vault": vault,
            "locked": bool(described.get("Locked")),
            "min_retention_days": described.get("MinRetentionDays")}
