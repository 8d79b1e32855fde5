"""Monorepo tooling: find exercises, scaffold new ones, run every test suite."""
