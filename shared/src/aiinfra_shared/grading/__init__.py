"""Grade a learner's submission with the reference exercise's tests.

`aiinfra-grade` (or `make grade EX=... SUBMISSION=...`) installs the submission in a fresh
venv, runs the REFERENCE tests against it with a per-test timeout, and writes a
Gradescope-compatible `results.json`, a JUnit XML and a markdown summary.
"""

from aiinfra_shared.grading.results import GradeReport, TestResult, validate_results
from aiinfra_shared.grading.runner import GradingError, grade

__all__ = ["GradeReport", "GradingError", "TestResult", "grade", "validate_results"]
