"""`tfml docs [--check]`: tables from the HCL between the README markers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import MODULES, invoke
from tfml.docs import BEGIN, END


def _one_module_library(tmp_path: Path, key: str = "aws/object-store") -> Path:
    target = tmp_path / "modules" / key
    shutil.copytree(MODULES / key, target,
                    ignore=shutil.ignore_patterns(".terraform*", "examples", "tests"))
    return tmp_path / "modules"


@pytest.mark.points(3)
def test_every_module_readme_is_generated_and_current() -> None:
    result = invoke("--modules-dir", str(MODULES), "docs", "--check")
    assert result.exit_code == 0, result.output
    text = (MODULES / "aws" / "ml-serving" / "README.md").read_text()
    assert BEGIN in text and END in text
    assert "| model_data_url | S3 URL of model.tar.gz. | `string` | n/a | yes |" in text
    assert "| endpoint_name |" in text


@pytest.mark.points(3)
def test_check_fails_on_a_stale_readme_and_docs_repairs_it(tmp_path: Path) -> None:
    library = _one_module_library(tmp_path)
    module = library / "aws" / "object-store"
    variables = module / "variables.tf"
    variables.write_text(variables.read_text() + '''
variable "retention_mode" {
  type        = string
  description = "Object lock mode."
  default     = "GOVERNANCE"
}
''')
    stale = invoke("--modules-dir", str(library), "docs", "--check")
    assert stale.exit_code == 1
    assert "aws/object-store" in stale.output
    assert "retention_mode" not in (module / "README.md").read_text()  # --check writes nothing
    written = invoke("--modules-dir", str(library), "docs")
    assert written.exit_code == 0
    readme = (module / "README.md").read_text()
    assert '| retention_mode | Object lock mode. | `string` | `"GOVERNANCE"` | no |' in readme
    assert readme.startswith("# object-store (aws)")  # text outside the markers is kept
    assert invoke("--modules-dir", str(library), "docs", "--check").exit_code == 0


@pytest.mark.hidden
@pytest.mark.points(2)
def test_deprecation_notes_reach_the_inputs_table(tmp_path: Path) -> None:
    library = _one_module_library(tmp_path)
    module = library / "aws" / "object-store"
    variables = module / "variables.tf"
    variables.write_text(variables.read_text() + '''
# tfml:deprecated use noncurrent_version_days = null instead
variable "enable_lifecycle" {
  type        = bool
  description = "Create the lifecycle rule."
  default     = true
}
''')
    assert invoke("--modules-dir", str(library), "docs").exit_code == 0
    readme = (module / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("| enable_lifecycle "))
    assert "**Deprecated:** use noncurrent_version_days = null instead." in line


@pytest.mark.points(1)
def test_broken_markers_are_one_line_errors(tmp_path: Path) -> None:
    library = _one_module_library(tmp_path)
    readme = library / "aws" / "object-store" / "README.md"
    readme.write_text(f"# x\n{BEGIN}\nold\n")
    result = invoke("--modules-dir", str(library), "docs")
    assert result.exit_code == 3
    assert "only one of BEGIN_TF_DOCS" in result.output
    assert readme.read_text() == f"# x\n{BEGIN}\nold\n"
