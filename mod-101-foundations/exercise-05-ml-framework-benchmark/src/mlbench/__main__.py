"""`python -m mlbench` is the same as the `mlbench` console script."""

from mlbench.cli import main

main()
