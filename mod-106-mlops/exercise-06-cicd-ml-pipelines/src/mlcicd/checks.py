"""Static checks of the CI/CD definitions: actionlint and check-jsonschema's bundled GitHub
workflow / GitLab CI schemas, kustomize overlays rendered by kubectl and validated by
kubernetes-validate. Each tool is a real binary from the venv; a finding is a failed check."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlcicd.adapters.proc import last_line, run
from mlcicd.errors import ConfigInvalidError

KUBERNETES_VERSION = "1.31"


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str


def _tool(name: str, command: list[str], cwd: Path) -> CheckResult:
    result = run(command, cwd=cwd, timeout=120)
    detail = last_line(result.stdout + "\n" + result.stderr) if result.returncode else "ok"
    return CheckResult(name, result.returncode == 0, detail)


def workflow_files(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    if not files:
        raise ConfigInvalidError(f"no workflows in {folder}")
    return files


def run_checks(root: Path, manifests: bool = True) -> list[CheckResult]:
    files = [str(p.relative_to(root)) for p in workflow_files(root)]
    results = [
        _tool("actionlint", ["actionlint", "-no-color", "-oneline", *files], root),
        _tool("github-workflows schema", ["check-jsonschema", "--builtin-schema",
                                          "vendor.github-workflows", *files], root),
    ]
    action = root / ".github" / "actions" / "setup" / "action.yml"
    if action.exists():
        results.append(_tool("github-actions schema", ["check-jsonschema", "--builtin-schema",
                                                       "vendor.github-actions",
                                                       str(action.relative_to(root))], root))
    if (root / ".gitlab-ci.yml").exists():
        results.append(_tool("gitlab-ci schema", ["check-jsonschema", "--builtin-schema",
                                                  "vendor.gitlab-ci", ".gitlab-ci.yml"], root))
    if manifests:
        results.extend(check_overlays(root))
    return results


def check_overlays(root: Path) -> list[CheckResult]:
    results = []
    for overlay in sorted((root / "deploy" / "overlays").glob("*/kustomization.yaml")):
        name = f"kustomize {overlay.parent.name}"
        rendered = run(["kubectl", "kustomize", str(overlay.parent)], cwd=root, timeout=60)
        if rendered.returncode != 0:
            results.append(CheckResult(name, False, last_line(rendered.stderr)))
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as out:
            out.write(rendered.stdout)
        results.append(_tool(name, ["kubernetes-validate", "--strict", "-k",
                                    KUBERNETES_VERSION, out.name], root))
        Path(out.name).unlink(missing_ok=True)
    return results
