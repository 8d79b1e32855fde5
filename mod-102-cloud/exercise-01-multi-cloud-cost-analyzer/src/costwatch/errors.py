"""The errors costwatch expects, each mapped to one CLI exit code.

Core modules raise these (never click exceptions) so they stay usable from Python; the CLI
turns each into one line on stderr and the exit code documented in the README.
"""

from __future__ import annotations


class CostwatchError(Exception):
    """Base class: `str()` is one line ready to print."""

    exit_code = 1


class SchemaError(CostwatchError):
    """Input billing data lacks mandatory FOCUS columns or has values of the wrong type."""

    exit_code = 3


class CurrencyError(CostwatchError):
    """A row's currency has no exchange rate valid on its charge date."""

    exit_code = 3


class UsageError(CostwatchError):
    """A request that cannot be answered as asked (unknown dimension, bad tag key...)."""

    exit_code = 2


class DateRangeError(UsageError):
    """A requested period is empty, reversed or lies in the future."""


class ProviderError(CostwatchError):
    """A cloud API refused or failed the request (403, 5xx, unreachable)."""

    exit_code = 5

    def __init__(self, provider: str, message: str, status: int | None = None) -> None:
        self.provider = provider
        self.status = status
        where = f" (HTTP {status})" if status else ""
        super().__init__(f"{provider}: {message}{where}")


class StoreError(CostwatchError):
    """The DuckDB store is missing, empty or cannot be opened."""

    exit_code = 4
