"""Repository-wide rules that are cheap to check mechanically."""

from __future__ import annotations

import subprocess
import tempfile
import tomllib
from pathlib import Path

from aiinfra_shared.workspace.exercises import discover


def _machine_prefixes(repo_root: Path) -> list[str]:
    """Paths that only exist on this machine: home, temp dir, the checkout's parent."""
    prefixes = {str(Path.home()) + "/", tempfile.gettempdir().rstrip("/") + "/",
                str(repo_root.parent) + "/"}
    return sorted(p for p in prefixes if len(p) > 2)


def _pins(repo_root: Path) -> dict[str, str]:
    pins = {}
    for line in (repo_root / "shared" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = (part.strip() for part in line.split("=="))
            pins[name.lower()] = version
    return pins


def test_locks_use_the_shared_heavy_versions(repo_root: Path) -> None:
    pins = _pins(repo_root)
    mismatches = []
    for exercise in discover(repo_root):
        lock = tomllib.loads((exercise.path / "uv.lock").read_text())
        for package in lock.get("package", []):
            name = package["name"].lower()
            if name in pins and package["version"].split("+")[0] != pins[name]:
                mismatches.append(f"{exercise.code}: {name} {package['version']}")
    assert mismatches == []


def test_no_machine_specific_paths_in_tracked_files(repo_root: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=repo_root, capture_output=True, text=True,
                           check=True).stdout.split()
    prefixes = _machine_prefixes(repo_root)
    offenders = []
    for name in files:
        if name.startswith("shared/tests/") or not name.endswith(
            (".lock", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".txt")
        ):
            continue
        text = (repo_root / name).read_text(errors="replace")
        if "file://" in text or any(prefix in text for prefix in prefixes):
            offenders.append(name)
    assert offenders == []


def test_every_exercise_has_the_skeleton(repo_root: Path) -> None:
    required = ("README.md", "pyproject.toml", "uv.lock", "Makefile", "Dockerfile",
                ".dockerignore", "src", "tests", "docs")
    missing = [f"{ex.code}: {name}" for ex in discover(repo_root) for name in required
               if not (ex.path / name).exists()]
    assert missing == []


def test_production_code_never_imports_the_test_plugin(repo_root: Path) -> None:
    """Exercises' src/, benchmarks and examples use aiinfra_shared.procs, not .testing."""
    offenders = [
        f"{path.relative_to(repo_root)}:{number}"
        for ex in discover(repo_root)
        for folder in ("src", "benchmarks", "examples")
        for path in (ex.path / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "aiinfra_shared.testing" in line
    ]
    runtime = repo_root / "shared" / "src" / "aiinfra_shared"
    offenders += [
        f"{path.relative_to(repo_root)}:{number}"
        for path in runtime.rglob("*.py")
        if "testing" not in path.relative_to(runtime).parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.lstrip().startswith(("import pytest", "from pytest", "from aiinfra_shared.testing"))
    ]
    assert offenders == []


def test_grade_workflow_needs_an_explicit_reference_and_publishes_only_learner_files(
    repo_root: Path,
) -> None:
    import yaml

    workflow = yaml.safe_load((repo_root / ".github" / "workflows" / "grade.yml").read_text())
    inputs = workflow[True]["workflow_call"]["inputs"]  # YAML 1.1 reads `on:` as True
    assert inputs["reference-repository"]["required"] is True
    assert "default" not in inputs["reference-repository"]
    steps = workflow["jobs"]["grade"]["steps"]
    text = (repo_root / ".github" / "workflows" / "grade.yml").read_text()
    assert "github.repository" not in text.split("name: grade", 1)[1]
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert [s["with"]["path"] for s in uploads] == ["grade/learner/"]
    summaries = [s["run"] for s in steps if "GITHUB_STEP_SUMMARY" in str(s.get("run", ""))]
    assert summaries and all("grade/learner/" in run for run in summaries)


def test_every_exercise_is_ready_for_grading(repo_root: Path) -> None:
    """Reference-owned files declared, a README Grading section, solution regions that the
    starter generator accepts, hidden tests it can remove."""
    from aiinfra_shared.grading.markers import MarkerError, strip_hidden_tests, strip_solutions

    problems: list[str] = []
    for ex in discover(repo_root):
        data = tomllib.loads((ex.path / "pyproject.toml").read_text())
        grading = data.get("tool", {}).get("aiinfra", {}).get("grading", {})
        if "tests/**" not in grading.get("reference-files", []):
            problems.append(f"{ex.code}: [tool.aiinfra.grading] reference-files lacks tests/**")
        if "\n## Grading" not in (ex.path / "README.md").read_text():
            problems.append(f"{ex.code}: README has no '## Grading' section")
        regions = 0
        for path in sorted(ex.path.rglob("*.py")):
            rel = path.relative_to(ex.path).as_posix()
            if ".venv" in path.parts:
                continue
            try:
                if rel.startswith("tests/"):
                    strip_hidden_tests(path.read_text(), rel)
                else:
                    regions += len(strip_solutions(path.read_text(), rel)[1])
            except MarkerError as exc:
                problems.append(f"{ex.code}: {exc}")
        if regions == 0:
            problems.append(f"{ex.code}: no '# BEGIN SOLUTION' regions in its code")
    assert problems == []


def test_exercise_makefiles_use_the_shared_include(repo_root: Path) -> None:
    """The common targets live once, in shared/make/exercise.mk; each exercise adds its demo."""
    problems = []
    for ex in discover(repo_root):
        text = (ex.path / "Makefile").read_text()
        if "include ../../shared/make/exercise.mk" not in text:
            problems.append(f"{ex.code}: Makefile does not include shared/make/exercise.mk")
            continue
        dry = subprocess.run(["make", "-n", "-C", str(ex.path), "test", "lint", "run"],
                             capture_output=True, text=True, check=False, timeout=60)
        if dry.returncode != 0 or "uv run --no-sync pytest" not in dry.stdout:
            problems.append(f"{ex.code}: make -n test lint run failed: {dry.stderr.strip()}")
    assert problems == []
