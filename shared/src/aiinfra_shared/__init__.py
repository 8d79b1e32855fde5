"""Thin shared library for the AI infrastructure curriculum.

Modules:
    logging  -- one call to configure logs for CLIs and services (JSON or coloured).
    config   -- a pydantic-settings base class with file + env support and readable errors.
    cli      -- click helpers: common options, one-line errors with documented exit codes.
    testing  -- a pytest plugin with fixtures that start real services on loopback.
    grading  -- run reference tests against a submission and write Gradescope results.
"""

__version__ = "0.1.0"
