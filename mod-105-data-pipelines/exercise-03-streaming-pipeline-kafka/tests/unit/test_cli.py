"""The CLI through its entry point: help, exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from aiinfra_shared.procs.ports import free_port
from click.testing import CliRunner

from streamml import __version__
from streamml.cli import cli

EXE = str(Path(sys.executable).parent / "streamml")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.points(1)
def test_version_and_entry_point() -> None:
    assert __version__ in CliRunner().invoke(cli, ["--version"]).output
    result = subprocess.run([EXE, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "Examples:" in result.stdout
    assert "5 unavailable" in result.stdout


@pytest.mark.points(1)
def test_every_command_has_help_with_examples() -> None:
    runner = CliRunner()
    for path in _commands(cli):
        if path[-1] == "create":
            continue  # `topics create` takes no options worth an example
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Examples:" in result.output, f"{' '.join(path)} --help has no examples"


@pytest.mark.points(2)
def test_unreachable_broker_is_one_line_exit_5() -> None:
    port = free_port()  # nothing listens there
    env = {"STREAMML_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
           "STREAMML_KAFKA__BROKER_TIMEOUT_SECONDS": "2"}
    expected = [f"error: cannot reach the Kafka broker at 127.0.0.1:{port} within 2s "
                "(is it running? set STREAMML_KAFKA__BOOTSTRAP_SERVERS)"]
    # Through the console script once (real process, stderr only)...
    result = subprocess.run([EXE, "produce", "--events", "5"], capture_output=True, text=True,
                            check=False, env={**os.environ, **env}, timeout=60)
    assert result.returncode == 5, result.stderr
    assert result.stderr.strip().splitlines() == expected
    # ...and every other broker-facing command through click, in process.
    env["STREAMML_KAFKA__BROKER_TIMEOUT_SECONDS"] = "1"
    for args in (["topics", "create"], ["validate", "--until-idle", "1"],
                 ["score", "--until-idle", "1"]):
        outcome = CliRunner().invoke(cli, args, env=env)
        assert outcome.exit_code == 5, (args, outcome.output)
        assert outcome.output.strip().splitlines() == [expected[0].replace("2s", "1s")], args


@pytest.mark.points(2)
def test_bad_config_is_exit_3_naming_the_field(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["topics", "create"],
                           env={"STREAMML_SPARK__WINDOW_SECONDS": "0"})
    assert result.exit_code == 3
    assert "spark.window_seconds" in result.output and "Traceback" not in result.output
    config = tmp_path / "streamml.yaml"
    config.write_text("spark:\n  window_seconds: 30\n  slide_seconds: 60\n")
    result = runner.invoke(cli, ["--config", str(config), "topics", "create"])
    assert result.exit_code == 3 and "slide_seconds must not exceed window_seconds" in (
        result.output)
    config.write_text("kafka: [unclosed\n")
    result = runner.invoke(cli, ["--config", str(config), "topics", "create"])
    assert result.exit_code == 3 and "invalid YAML" in result.output
    config.write_text("kafka:\n  bootstrap: x\n")
    result = runner.invoke(cli, ["--config", str(config), "topics", "create"])
    assert result.exit_code == 3 and "kafka.bootstrap" in result.output


@pytest.mark.points(2)
def test_render_and_render_check(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["render", "--out", str(tmp_path)]).exit_code == 0
    assert runner.invoke(cli, ["render", "--out", str(tmp_path), "--check"]).exit_code == 0
    rules = tmp_path / "prometheus" / "alerting_rules.yml"
    rules.write_text(rules.read_text().replace("> 1000", "> 9000"))
    result = runner.invoke(cli, ["render", "--out", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert result.output.strip() == ("error: stale generated files: "
                                     "prometheus/alerting_rules.yml (run streamml render)")
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temp files


@pytest.mark.points(1)
@pytest.mark.hidden
def test_unreachable_registry_is_exit_5() -> None:
    env = {"STREAMML_KAFKA__SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{free_port()}"}
    result = CliRunner().invoke(cli, ["schema", "register"], env=env)
    assert result.exit_code == 5
    assert result.output.startswith("error: cannot reach the schema registry")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.points(1)
@pytest.mark.hidden
def test_exporter_target_must_be_group_colon_topic() -> None:
    result = CliRunner().invoke(cli, ["exporter", "--target", "nogroup"],
                                env={"STREAMML_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
                                     "STREAMML_KAFKA__BROKER_TIMEOUT_SECONDS": "1"})
    # The broker check comes first: unreachable wins over the bad target.
    assert result.exit_code == 5
