"""Expected errors of imgsec, each mapped to one documented exit code by the CLI.

The core raises these (never click exceptions) so it stays usable as a library; `cli.py`
turns them into one line on stderr and the exit code documented in the README.
"""

from __future__ import annotations


class ImgsecError(Exception):
    """Base class: `str()` is the one line printed to the user."""

    exit_code = 1


class InvalidInputError(ImgsecError):
    """An input document is malformed: image archive/layout, OSV record, VEX document."""

    exit_code = 3


class NotFoundError(ImgsecError):
    """A named file, image or tag does not exist."""

    exit_code = 4


class UnavailableError(ImgsecError):
    """A registry or external tool cannot be reached or run."""

    exit_code = 5
