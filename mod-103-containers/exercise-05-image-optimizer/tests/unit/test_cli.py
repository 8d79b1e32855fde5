"""The console script and bad input: one line, a documented exit code, nothing half-written."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from imgopt import __version__
from imgopt.cli import cli

SAMPLE = ("FROM scratch\nCOPY busybox /bin/busybox\nRUN echo a > /a\nRUN rm /a\n"
          "COPY t /t\nRUN chmod 755 /t\n")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def one_line_error(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.points(1)
def test_version_and_help() -> None:
    assert __version__ in invoke("--version").output
    exe = Path(sys.executable).parent / "imgopt"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "imgopt fix Dockerfile --check" in result.stdout


@pytest.mark.points(2)
def test_a_tarball_that_is_not_an_image(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.tar"
    with tarfile.open(bogus, "w") as archive:
        data = b"hello"
        info = tarfile.TarInfo("notes.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    result = invoke("analyze", str(bogus))
    assert result.exit_code == 3
    assert "not an image (no manifest.json" in one_line_error(result)
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x00not a tar at all" * 10)
    result = invoke("analyze", str(garbage))
    assert result.exit_code == 3
    assert "not an image" in one_line_error(result)


@pytest.mark.points(1)
def test_missing_inputs_exit_4(tmp_path: Path) -> None:
    assert invoke("analyze", str(tmp_path / "nope.tar")).exit_code == 4
    result = invoke("fix", str(tmp_path / "Dockerfile"))
    assert result.exit_code == 4
    assert "no such Dockerfile" in one_line_error(result)


@pytest.mark.points(2)
def test_parse_error_names_the_line_and_writes_nothing(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    text = "FROM alpine:3.20\nRUN echo ok\nCOPPY a b\n"
    dockerfile.write_text(text)
    result = invoke("fix", str(dockerfile), "--write")
    assert result.exit_code == 3
    assert one_line_error(result).endswith("Dockerfile:3: unknown instruction: COPPY")
    assert dockerfile.read_text() == text
    assert invoke("lint", str(dockerfile), "--no-hadolint").exit_code == 3


@pytest.mark.points(3)
def test_fix_prints_a_diff_and_writes_only_with_write(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(SAMPLE)
    (tmp_path / "t").write_text("tool")
    shown = invoke("fix", str(dockerfile))
    assert shown.exit_code == 0
    assert "+COPY --chmod=755 t /t" in shown.output
    assert "rewrote IMG004" in shown.output and "rewrote IMG007" in shown.output
    assert dockerfile.read_text() == SAMPLE
    check = invoke("fix", str(dockerfile), "--check")
    assert check.exit_code == 1
    assert invoke("fix", str(dockerfile), "--write").exit_code == 0
    assert "COPY --chmod=755 t /t" in dockerfile.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "t"]  # no temp left
    assert invoke("fix", str(dockerfile), "--check").exit_code == 0


@pytest.mark.points(2)
def test_lint_json_has_ids_lines_and_hadolint(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM ubuntu\nRUN apt-get update\nRUN apt-get install -y gcc\n")
    result = invoke("lint", str(dockerfile), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    ours = {(f["rule"], f["line"]) for f in report["findings"]}
    assert {("IMG006", 1), ("IMG003", 3), ("IMG005", 3), ("IMG007", 3), ("IMG002", 1)} <= ours
    assert {("DL3006", 1), ("DL3059", 3)} <= {(h["code"], h["line"]) for h in report["hadolint"]}


@pytest.mark.points(1)
def test_compare_with_a_missing_context(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY a /a\n")
    result = invoke("compare", str(dockerfile), str(dockerfile), "--context",
                    str(tmp_path / "gone"), env={"IMGOPT_WORK_DIR": str(tmp_path / "w")})
    assert result.exit_code == 4
    assert "build context is not a directory" in one_line_error(result)


@pytest.mark.hidden
@pytest.mark.points(2)
def test_bad_ci_config_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / ".dive-ci"
    config.write_text("rules:\n  lowestEfficiency: [oops\n")
    archive = tmp_path / "x.tar"
    archive.write_bytes(b"")
    result = invoke("analyze", str(archive), "--ci-config", str(config))
    assert result.exit_code == 3
    assert "invalid YAML at line 3" in one_line_error(result)
