"""`python -m pulumiml.policy`: serve the policy pack the way the Pulumi engine starts it."""

from pulumiml.policy.pack import serve

serve()
