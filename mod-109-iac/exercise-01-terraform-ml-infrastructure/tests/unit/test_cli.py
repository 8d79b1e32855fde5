"""The CLI's own surface: help with examples, configuration by file and environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODULES, invoke


@pytest.mark.points(1)
def test_entry_point_help_has_examples_and_exit_codes() -> None:
    exe = Path(sys.executable).parent / "tfml"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "tfml release aws/object-store" in result.stdout
    assert "Exit codes" in result.stdout


@pytest.mark.points(1)
def test_config_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "tfml.yaml"
    config.write_text(f"modules_dir: {MODULES}\n")
    assert invoke("--config", str(config), "docs", "--check").exit_code == 0
    env_only = invoke("docs", "--check", env={"TFML_MODULES_DIR": str(MODULES)})
    assert env_only.exit_code == 0
    bad = invoke("--config", str(config), "docs", env={"TFML_NAMESPACE": "Not Valid!"})
    assert bad.exit_code == 3
    assert bad.output.strip().count("\n") == 0
    missing = invoke("--config", str(tmp_path / "nope.yaml"), "docs")
    assert missing.exit_code == 3 and "not found" in missing.output


@pytest.mark.points(1)
def test_release_of_a_module_without_versions_tf_is_refused(tmp_path: Path) -> None:
    module = tmp_path / "modules" / "aws" / "bare"
    module.mkdir(parents=True)
    (module / "main.tf").write_text('variable "x" {\n  type        = string\n'
                                    '  description = "x"\n}\n')
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = invoke("--modules-dir", str(tmp_path / "modules"), "release", "aws/bare")
    assert result.exit_code == 3
    assert "no versions.tf" in result.output
    assert subprocess.run(["git", "tag"], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout == ""
