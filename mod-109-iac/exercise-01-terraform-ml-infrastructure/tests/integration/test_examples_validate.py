"""`terraform validate` of every AWS example, in one terraform process.

Each validate loads the 670 MB provider's schema (3-8 s here), so the twelve AWS examples are
validated together: a root in a copy of the library calls each example as a module, and one
`validate` walks them all (resource arguments against the provider schema, module inputs
against the modules' variables, types, references). The copy drops each example's
`provider "aws" { region = var.region }` block, so that every call shares the root's provider
(one provider process instead of thirteen; the block is the same in every example). A
thirteenth call goes to a copy of one example with an argument the provider does not know:
the same validate must report it, and only it. The GCP and Azure examples get the static
checks of tests/unit/test_examples.py instead (their providers cannot be had offline).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs.terraform import Terraform

from tests.conftest import IGNORE, MODULES
from tfml.runner import init_module

pytestmark = pytest.mark.integration

AWS_EXAMPLES = sorted(p.parent.relative_to(MODULES)
                      for p in MODULES.glob("aws/*/examples/*/main.tf"))
PROVIDER_RE = re.compile(r'^provider "aws" \{\n.*?^\}\n', re.DOTALL | re.MULTILINE)
PLANTED = "planted"  # the broken copy: modules/aws/object-store/examples/planted
ROOT_VERSIONS = """terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}
"""


def _call(example: Path) -> str:
    label = "_".join(example.parts[1:]).replace("-", "_").replace("_examples_", "_")
    return f'module "{label}" {{\n  source = "./modules/{example.as_posix()}"\n}}\n'


def combined_root(target: Path) -> Path:
    """A root under `target` that calls every AWS example of a copy of the library, and the
    planted broken one."""
    shutil.copytree(MODULES / "aws", target / "modules" / "aws", ignore=IGNORE)
    for example in AWS_EXAMPLES:
        main = target / "modules" / example / "main.tf"
        text, count = PROVIDER_RE.subn("", main.read_text())
        assert count == 1, f"{example}: expected one provider \"aws\" block"
        main.write_text(text)
    source = target / "modules" / "aws" / "object-store" / "examples" / "complete"
    planted = source.parent / PLANTED
    shutil.copytree(source, planted)
    main = planted / "main.tf"
    text = main.read_text()
    assert "enable_key_rotation " in text
    main.write_text(text.replace("enable_key_rotation ", "rotate_key_yearly "))
    calls = [_call(e) for e in [*AWS_EXAMPLES, planted.relative_to(target / "modules")]]
    (target / "main.tf").write_text("\n".join([ROOT_VERSIONS, *calls]))
    return target


@pytest.fixture(scope="module")
def diagnostics(tf: Terraform, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The errors of one `terraform validate -json` of the combined root."""
    root = combined_root(tmp_path_factory.mktemp("examples"))
    init_module(tf, root)
    result = tf.validate(root)
    return [d for d in result.get("diagnostics", []) if d.get("severity") == "error"]


def _where(diagnostic: dict[str, Any]) -> str:
    return str(diagnostic.get("range", {}).get("filename", ""))


@pytest.mark.points(3)
def test_every_aws_example_validates(diagnostics: list[dict[str, Any]]) -> None:
    assert len(AWS_EXAMPLES) == 12  # basic + complete of six modules
    errors = [f"{_where(d)}: {d.get('summary')}: {d.get('detail')}" for d in diagnostics
              if f"/{PLANTED}/" not in _where(d)]
    assert errors == []


@pytest.mark.hidden
@pytest.mark.points(1)
def test_validate_of_the_combined_root_is_not_vacuous(
        diagnostics: list[dict[str, Any]]) -> None:
    """The example calls are really walked: the planted unknown argument is reported."""
    planted = [d for d in diagnostics if f"/{PLANTED}/" in _where(d)]
    assert len(planted) == 1, diagnostics
    assert planted[0]["summary"] == "Unsupported argument"
    assert '"rotate_key_yearly"' in planted[0]["detail"]
