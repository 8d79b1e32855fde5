"""The runtime install of aiinfra-shared (what an exercise's image gets) has no pytest.

Installs the package for real into a fresh venv, without extras, and imports every runtime
module there; the test plugin is the only part that needs the `[dev]` extra.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration]

RUNTIME_MODULES = ["aiinfra_shared.cli", "aiinfra_shared.config", "aiinfra_shared.io",
                   "aiinfra_shared.logging", "aiinfra_shared.models", "aiinfra_shared.procs",
                   "aiinfra_shared.grading", "aiinfra_shared.workspace.cli"]


def test_runtime_install_pulls_no_pytest(repo_root: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "--quiet", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(["uv", "pip", "install", "--quiet", "--python", str(python),
                    str(repo_root / "shared")], check=True, timeout=600)
    frozen = subprocess.run(["uv", "pip", "freeze", "--python", str(python)],
                            capture_output=True, text=True, check=True, timeout=120).stdout
    names = {line.split("==")[0].split(" @ ")[0].lower() for line in frozen.splitlines()}
    assert "aiinfra-shared" in names
    assert not {"pytest", "pytest-timeout"} & names, frozen
    script = ("import importlib, sys\n"
              f"for name in {RUNTIME_MODULES!r}:\n"
              "    importlib.import_module(name)\n"
              "assert 'pytest' not in sys.modules, 'a runtime module imported pytest'\n"
              "try:\n"
              "    import aiinfra_shared.testing.plugin\n"
              "except ModuleNotFoundError as exc:\n"
              "    assert exc.name == 'pytest', exc\n"
              "else:\n"
              "    raise AssertionError('the test plugin imported without pytest')\n")
    result = subprocess.run([str(python), "-c", script], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr
