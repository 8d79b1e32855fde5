"""Expected failures, each mapped to a documented exit code by the CLI.

Core modules raise these (never click exceptions) so they stay usable as a library.
"""

from __future__ import annotations


class ImgoptError(Exception):
    """Base class: `str()` is a one-line message ready to print."""

    exit_code = 1


class NotAnImageError(ImgoptError):
    """The input is not a docker-archive, an OCI layout or a reachable reference."""

    exit_code = 3


class InputNotFoundError(ImgoptError):
    """A named file, directory or build context does not exist."""

    exit_code = 4


class DockerfileParseError(ImgoptError):
    """The Dockerfile does not parse; the message names the line."""

    exit_code = 3


class ToolError(ImgoptError):
    """An external tool (buildah, umoci, skopeo, strace, hadolint) failed."""

    exit_code = 1


class ToolMissingError(ImgoptError):
    """An external tool is not installed."""

    exit_code = 5


class ProbeError(ImgoptError):
    """A smoke command or minify probe failed (on the original: minify refuses)."""

    exit_code = 1
