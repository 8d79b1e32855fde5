"""`python -m modelmon` (used by the stack runner to start its child processes)."""

from modelmon.cli import main

main()
