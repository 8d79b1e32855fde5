"""The CrossGuard policy pack `pulumiml-guardrails` (pulumi-policy, Python).

Building the `PolicyPack` starts the analyzer gRPC server on loopback, prints its port and
blocks: that is how the Pulumi engine runs a pack (`pulumi preview --policy-pack policypack/`),
and how `pulumiml` runs it (`python -m pulumiml.policy`, see `client.py`). Never build it
inside another process's code path.

Per-stack configuration uses Pulumi's policy-config format (`--policy-pack-config`):
`{"cost-tags": {"enforcementLevel": "mandatory", "requiredTags": [...]}}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from pulumiml.policy import rules

PACK_NAME = "pulumiml-guardrails"


def _plain(value: Any) -> Any:
    """pulumi-policy hands properties as read-only proxies: turn them into dicts/lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _resource_policy(name: str, description: str, level: EnforcementLevel,
                     check: Callable[[str, dict[str, Any], Mapping[str, Any]], list[str]],
                     schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        for message in check(args.resource_type, _plain(args.props), config):
            report_violation(message, None)

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=level, config_schema=schema)


def _versioned(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    # BEGIN SOLUTION
    rows = [(r.urn, r.resource_type, _plain(r.props),
             {key: [dep.urn for dep in deps] for key, deps in r.property_dependencies.items()})
            for r in args.resources]
    for urn, message in rules.unversioned_buckets(rows):
        report_violation(message, urn)
    # END SOLUTION


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every policy with its default enforcement level (a stack's config may change it)."""
    return [
        _resource_policy("encryption-at-rest", "Data at rest uses customer-managed keys.",
                         EnforcementLevel.MANDATORY, lambda t, p, c: rules.encryption(t, p)),
        _resource_policy("no-public-storage", "Buckets and storage accounts are never public.",
                         EnforcementLevel.MANDATORY, lambda t, p, c: rules.public_access(t, p)),
        _resource_policy(
            "cost-tags", "Billed resources carry cost-allocation tags.",
            EnforcementLevel.ADVISORY,
            lambda t, p, c: rules.cost_tags(t, p, c.get("requiredTags",
                                                          rules.DEFAULT_REQUIRED_TAGS)),
            PolicyConfigSchema({"requiredTags": {"type": "array", "items": {"type": "string"}}})),
        _resource_policy(
            "gpu-allow-list", "Training uses only the GPU types allowed for the environment.",
            EnforcementLevel.MANDATORY,
            lambda t, p, c: rules.gpu_allow_list(t, p, c.get("allowedGpus",
                                                               rules.DEFAULT_ALLOWED_GPUS)),
            PolicyConfigSchema({"allowedGpus": {"type": "array", "items": {"type": "string"}}})),
        _resource_policy("no-wildcard-iam", "IAM grants name their actions and roles.",
                         EnforcementLevel.MANDATORY, lambda t, p, c: rules.wildcard_iam(t, p)),
        _resource_policy(
            "private-endpoints", "Services are reachable over private networking only.",
            EnforcementLevel.ADVISORY, lambda t, p, c: rules.private_networking(t, p)),
        StackValidationPolicy(name="buckets-versioned",
                              description="Every bucket and storage account is versioned.",
                              validate=_versioned, enforcement_level=EnforcementLevel.MANDATORY),
    ]


def serve() -> None:
    """Start the analyzer server (prints the port, blocks until killed)."""
    pack_policies: list[Policy] = list(policies())
    PolicyPack(name=PACK_NAME, policies=pack_policies,
               enforcement_level=EnforcementLevel.ADVISORY)
