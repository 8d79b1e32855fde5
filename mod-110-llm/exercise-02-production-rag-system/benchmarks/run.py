"""Benchmarks for ragkit: write results to benchmarks/results.json and summarise in README."""

import sys

sys.exit("no benchmark written yet for ragkit")
