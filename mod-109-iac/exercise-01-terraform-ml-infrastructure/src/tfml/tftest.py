"""A Terratest-style helper in Python (after Cloud Foundation Fabric's `tftest`).

    with TerraformTest(modules_dir, "aws/ml-serving/examples/complete", tf,
                       files={"moto_override.tf": moto_provider_hcl()}) as t:
        t.apply()
        outputs = t.output()        # then check the real resources with boto3

The example is run from a copy of the whole module library (examples call `../..`), so the
source tree never gets a `.terraform` directory or state. Leaving the `with` block destroys
what was applied, like Terratest's `defer terraform.Destroy(t, options)`.

Terratest idiom -> here: `terraform.InitAndApply` -> `apply()`, `terraform.Output` ->
`output()`, `terraform.InitAndPlan` + `terraform.ShowWithStruct` -> `plan()`, `defer
terraform.Destroy` -> the context manager, `test_structure.CopyTerraformFolderToTemp` ->
the copy made by `setup()`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from aiinfra_shared.procs.terraform import Terraform

IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "tfplan")


class TerraformTest:
    def __init__(self, base_dir: Path, example: str, tf: Terraform, *,
                 files: dict[str, str] | None = None, work_dir: Path | None = None,
                 destroy_on_exit: bool = True) -> None:
        self.base_dir = Path(base_dir)
        self.example = example
        self.tf = tf
        self.files = dict(files or {})
        self._work_dir = Path(work_dir) if work_dir else None
        self.destroy_on_exit = destroy_on_exit
        self.path: Path | None = None
        self.applied = False

    def setup(self) -> Path:
        """Copy the library, add the extra files, `terraform init`; returns the example dir."""
        # BEGIN SOLUTION
        root = self._work_dir or Path(tempfile.mkdtemp(prefix="tftest-"))
        copy = root / "modules"
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(self.base_dir, copy, ignore=IGNORE)
        self.path = copy / self.example
        if not self.path.is_dir():
            raise FileNotFoundError(f"no example {self.example} under {self.base_dir}")
        for name, text in self.files.items():
            (self.path / name).write_text(text)
        self.tf.init(self.path)
        return self.path
        # END SOLUTION

    def _dir(self) -> Path:
        return self.path if self.path is not None else self.setup()

    def plan(self) -> dict[str, Any]:
        """`plan -out` + `show -json`: the plan as Terraform's JSON document."""
        path = self._dir()
        self.tf.plan(path, out="tfplan")
        return self.tf.show_json(path, "tfplan")

    def apply(self, *extra: str) -> str:
        path = self._dir()
        result = self.tf.apply(path, *extra)
        self.applied = True
        return result.stdout

    def plan_exitcode(self) -> int:
        """`plan -detailed-exitcode`: 0 nothing to do (idempotent), 2 changes pending."""
        return self.tf.run("plan", "-input=false", "-detailed-exitcode", cwd=self._dir(),
                           check=False).returncode

    def output(self) -> dict[str, Any]:
        return self.tf.output_json(self._dir())

    def state(self) -> dict[str, Any]:
        return self.tf.show_json(self._dir())

    def destroy(self) -> None:
        if self.path is not None and self.applied:
            self.tf.destroy(self.path)
            self.applied = False

    def __enter__(self) -> TerraformTest:
        self.setup()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.destroy_on_exit:
            self.destroy()
