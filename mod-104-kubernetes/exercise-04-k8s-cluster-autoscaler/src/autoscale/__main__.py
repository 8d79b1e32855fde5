"""`python -m autoscale` runs the CLI."""

from autoscale.cli import main

main()
