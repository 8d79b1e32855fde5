"""`python -m modelop` = the `modelop` console script."""

from modelop.cli import main

main()
