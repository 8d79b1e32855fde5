from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, NotFoundError, track
from aiinfra_shared.config import ConfigError


@click.group(cls=AppGroup)
def app() -> None:
    """Demo."""


@app.command()
@click.argument("what")
def fail(what: str) -> None:
    if what == "missing":
        raise NotFoundError("model 'x' not found")
    if what == "config":
        raise ConfigError("a.yml: port: Input should be a valid integer\na.yml: host: missing")
    if what == "custom":
        raise CLIError("registry unreachable", ExitCode.UNAVAILABLE)
    raise RuntimeError("boom")


@app.command()
def logs() -> None:
    import logging

    logging.getLogger("demo").warning("hello", extra={"model": "m1"})


@pytest.mark.parametrize(
    ("what", "code", "message"),
    [
        ("missing", ExitCode.NOT_FOUND, "error: model 'x' not found"),
        ("config", ExitCode.CONFIG, "error: a.yml: port: Input should be a valid integer; "
                                    "a.yml: host: missing"),
        ("custom", ExitCode.UNAVAILABLE, "error: registry unreachable"),
        ("other", ExitCode.INTERNAL, "error: unexpected RuntimeError: boom (rerun with --debug"),
    ],
)
def test_errors_are_one_line_with_exit_code(what: str, code: int, message: str) -> None:
    result = CliRunner().invoke(app, ["fail", what])
    assert result.exit_code == code
    assert result.output.startswith(message)
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_debug_shows_the_real_exception() -> None:
    result = CliRunner().invoke(app, ["--debug", "fail", "other"])
    assert isinstance(result.exception, RuntimeError)


def test_json_logs_option(capsys: pytest.CaptureFixture[str]) -> None:
    result = CliRunner().invoke(app, ["--json-logs", "--log-level", "INFO", "logs"])
    assert result.exit_code == 0
    line = [ln for ln in result.output.splitlines() if ln.startswith("{")][-1]
    record = json.loads(line)
    assert record["message"] == "hello" and record["model"] == "m1"
    assert record["level"] == "warning"


def test_usage_error_keeps_click_exit_code() -> None:
    assert CliRunner().invoke(app, ["fail"]).exit_code == ExitCode.USAGE


def test_track_yields_every_item_without_tty() -> None:
    assert list(track([1, 2, 3], "counting")) == [1, 2, 3]


def test_print_table_renders_every_cell_on_the_given_console() -> None:
    import io

    from rich.console import Console

    from aiinfra_shared.cli import print_table

    out = io.StringIO()
    print_table("tags", ["repo", "size"], [["app", 1024], ["db", None]],
                Console(file=out, width=80))
    text = out.getvalue()
    assert "tags" in text and "app" in text and "1024" in text and "None" in text


def test_expected_errors_become_one_line_with_their_exit_code() -> None:
    from click.testing import CliRunner

    from aiinfra_shared.cli import AppCommand, expected_errors

    class StoreError(RuntimeError):
        exit_code = 6

    @click.command(cls=AppCommand)
    @click.argument("what")
    @expected_errors(StoreError, ValueError, default_code=2)
    def run(what: str) -> None:
        if what == "store":
            raise StoreError("period 2026-11 is locked\nby another ingest")
        if what == "value":
            raise ValueError("bad date")
        raise KeyError(what)  # not an expected error: stays an internal one

    runner = CliRunner()
    store = runner.invoke(run, ["store"])
    assert store.exit_code == 6
    assert store.output.strip() == "error: period 2026-11 is locked; by another ingest"
    assert runner.invoke(run, ["value"]).exit_code == 2
    other = runner.invoke(run, ["other"])
    assert other.exit_code == ExitCode.INTERNAL and "unexpected KeyError" in other.output
