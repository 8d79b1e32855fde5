"""Entry point the Pulumi engine runs for `--policy-pack policypack` (the pack lives in pulumiml)."""

from pulumiml.policy.pack import serve

serve()
