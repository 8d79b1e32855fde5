"""`tfml lint`: fmt -check and the HCL rules (validate runs in the integration tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MODULES, invoke


def _rules(output: str) -> set[str]:
    return {word for line in output.splitlines() for word in line.split()
            if word.startswith(("TFML", "FMT"))}


@pytest.mark.points(3)
def test_the_library_is_lint_clean() -> None:
    result = invoke("--modules-dir", str(MODULES), "lint", "--no-validate")
    assert result.exit_code == 0, result.output
    assert "14 module(s) clean" in result.output


@pytest.mark.points(4)
def test_rules_flag_what_a_reusable_module_must_not_do() -> None:
    result = invoke("--modules-dir", str(FIXTURES / "bad-module"), "lint", "--no-validate",
                    "--no-fmt")
    assert result.exit_code == 1
    out = result.output
    assert {"TFML001", "TFML002", "TFML003", "TFML004", "TFML005", "TFML006", "TFML007",
            "TFML008", "TFML009", "TFML010"} <= _rules(out)
    assert "variable 'name' has no type" in out
    assert "variable 'size' has no description" in out
    assert "hard-coded region 'eu-west-1'" in out
    assert "hard-coded account ID '123456789012'" in out
    assert "provider 'aws' is not pinned with an upper bound" in out


@pytest.mark.hidden
@pytest.mark.points(2)
def test_fmt_check_finds_an_unformatted_file(tmp_path: Path) -> None:
    target = tmp_path / "modules" / "aws" / "network"
    shutil.copytree(MODULES / "aws" / "network", target,
                    ignore=shutil.ignore_patterns(".terraform*"))
    main = target / "main.tf"
    main.write_text(main.read_text().replace("  cidr_block           = var.cidr_block",
                                             "  cidr_block = var.cidr_block"))
    result = invoke("--modules-dir", str(tmp_path / "modules"), "lint", "--no-validate")
    assert result.exit_code == 1
    assert "FMT" in result.output and "main.tf" in result.output


@pytest.mark.points(1)
def test_lint_covers_the_examples(tmp_path: Path) -> None:
    """An example is linted as a root: its provider block is fine, a hard-coded region is
    not (reported under MODULE/examples/NAME)."""
    target = tmp_path / "modules" / "gcp" / "network"
    shutil.copytree(MODULES / "gcp" / "network", target,
                    ignore=shutil.ignore_patterns(".terraform*"))
    main = target / "examples" / "complete" / "main.tf"
    main.write_text(main.read_text().replace("  region     = var.region\n  cidr_block",
                                             '  region     = "europe-west1"\n  cidr_block'))
    result = invoke("--modules-dir", str(tmp_path / "modules"), "lint", "--no-validate")
    assert result.exit_code == 1
    findings = [line for line in result.output.splitlines() if "TFML" in line]
    assert len(findings) == 1, result.output
    assert "gcp/network/examples/complete/main.tf" in findings[0]
    assert "TFML007" in findings[0] and "'europe-west1'" in findings[0]


@pytest.mark.points(1)
def test_unknown_module_is_a_one_line_not_found() -> None:
    result = invoke("--modules-dir", str(MODULES), "lint", "aws/nope", "--no-validate")
    assert result.exit_code == 4
    assert result.output.strip().count("\n") == 0
    assert "no module 'aws/nope'" in result.output
