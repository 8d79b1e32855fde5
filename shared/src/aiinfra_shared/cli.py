"""Helpers for click CLIs: common options, one-line errors with documented exit codes, progress.

    @click.group(cls=AppGroup)
    def cli() -> None: ...

    main = cli            # console script entry point

`AppGroup` (`AppCommand` for single-command tools) adds `--log-level`, `--json-logs` and
`--debug`, configures logging, and turns errors into one line on stderr and a meaningful
exit code. Only with `--debug` (or AIINFRA_DEBUG=1) does an unexpected exception show its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ContextDecorator, contextmanager
from enum import IntEnum
from types import TracebackType
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from aiinfra_shared.config import ConfigError
from aiinfra_shared.logging import configure_logging

T = TypeVar("T")
log = logging.getLogger(__name__)


class ExitCode(IntEnum):
    """Exit codes shared by every CLI in the curriculum (documented in each README)."""

    OK = 0
    FAILURE = 1  # the command ran and the answer is "no" (unhealthy, regression, ...)
    USAGE = 2  # bad arguments or options (click's own code)
    CONFIG = 3  # invalid or unreadable configuration
    NOT_FOUND = 4  # a named thing does not exist
    UNAVAILABLE = 5  # a server or tool the command needs cannot be reached
    CONFLICT = 6  # the request conflicts with current state
    INTERNAL = 70  # unexpected error (EX_SOFTWARE); rerun with --debug
    INTERRUPTED = 130


class CLIError(click.ClickException):
    """An expected error: printed as one line, exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = ExitCode.FAILURE) -> None:
        super().__init__(message)
        self.exit_code = int(exit_code)  # type: ignore[misc]  # per-instance on purpose

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class expected_errors(ContextDecorator):  # noqa: N801 - used like a function
    """Turn an exercise's own errors into a one-line `CLIError` with their exit code.

    Use as a decorator on a command or as `with expected_errors(MyError): ...`. The exit code
    is the exception's `exit_code` attribute when it has one, else `default_code`; a message
    over several lines (a library's, say) is folded into one.
    """

    def __init__(self, *error_types: type[BaseException],
                 default_code: int = ExitCode.FAILURE) -> None:
        self.error_types = error_types
        self.default_code = int(default_code)

    def __enter__(self) -> expected_errors:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None or isinstance(exc, CLIError) or not isinstance(exc, self.error_types):
            return
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        message = "; ".join(lines) or type(exc).__name__
        raise CLIError(message, int(getattr(exc, "exit_code", self.default_code))) from exc


class NotFoundError(CLIError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.NOT_FOUND)


class UnavailableError(CLIError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.UNAVAILABLE)


def _debug_enabled(ctx: click.Context | None) -> bool:
    if os.environ.get("AIINFRA_DEBUG") == "1":
        return True
    root = ctx.find_root() if ctx else None
    return bool(root and root.meta.get("aiinfra.debug"))


class _CommonBehaviour:
    """Common options and error handling, shared by AppGroup and AppCommand."""

    params: list[click.Parameter]

    def _add_common_params(self) -> None:
        self.params.extend([
            click.Option(["--log-level"], default="WARNING", show_default=True,
                         type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
                                           case_sensitive=False),
                         help="Log verbosity (logs go to stderr).", expose_value=False,
                         is_eager=True, callback=_store_meta("aiinfra.log_level")),
            click.Option(["--json-logs/--no-json-logs"], default=None,
                         help="Force JSON log lines (default: JSON unless stderr is a TTY).",
                         expose_value=False, is_eager=True,
                         callback=_store_meta("aiinfra.json_logs")),
            click.Option(["--debug"], is_flag=True, default=False, expose_value=False,
                         is_eager=True, callback=_store_meta("aiinfra.debug"),
                         help="Show full tracebacks for unexpected errors."),
        ])

    def _invoke_guarded(self, ctx: click.Context, invoke: Any) -> Any:
        configure_logging(ctx.meta.get("aiinfra.log_level") or "WARNING",
                          json_output=ctx.meta.get("aiinfra.json_logs"))
        try:
            return invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ConfigError as exc:
            raise CLIError(str(exc).replace("\n", "; "), ExitCode.CONFIG) from exc
        except KeyboardInterrupt as exc:
            raise CLIError("interrupted", ExitCode.INTERRUPTED) from exc
        except Exception as exc:
            if _debug_enabled(ctx):
                raise
            log.debug("unexpected error", exc_info=True)
            raise CLIError(
                f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for details)",
                ExitCode.INTERNAL,
            ) from exc


_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class AppGroup(_CommonBehaviour, click.Group):
    """A click group with the curriculum's common options and error handling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", dict(_CONTEXT))
        super().__init__(*args, **kwargs)
        self._add_common_params()

    def invoke(self, ctx: click.Context) -> Any:
        return self._invoke_guarded(ctx, super().invoke)


class AppCommand(_CommonBehaviour, click.Command):
    """A single-command CLI with the same options and error handling as AppGroup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", dict(_CONTEXT))
        super().__init__(*args, **kwargs)
        self._add_common_params()

    def invoke(self, ctx: click.Context) -> Any:
        return self._invoke_guarded(ctx, super().invoke)


def _store_meta(key: str) -> Any:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        ctx.meta[key] = value
        return value

    return callback


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                console: Console | None = None) -> None:
    """A rich table of `rows` under `columns` (cells shown with str()), for human output.

    Pass the command's own console to keep its width and wrapping; `--json` output should
    use `echo_json` instead.
    """
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    (console or Console()).print(table)


def echo_json(payload: Any) -> None:
    """Print `payload` as indented JSON on stdout (for `--json` output)."""
    import json

    click.echo(json.dumps(payload, indent=2, default=str))


@contextmanager
def progress_bar(description: str, total: float | None = None,
                 enabled: bool | None = None) -> Iterator[Any]:
    """A rich progress bar on stderr; silent when stderr is not a TTY (logs, CI).

        with progress_bar("Embedding", total=len(chunks)) as advance:
            for chunk in chunks:
                ...
                advance(1)
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda _n=1: None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)


def track(items: Sequence[T] | Iterable[T], description: str,
          total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar (see `progress_bar`)."""
    if total is None and isinstance(items, Sequence):
        total = len(items)
    with progress_bar(description, total=total) as advance:
        for item in items:
            yield item
            advance(1)
