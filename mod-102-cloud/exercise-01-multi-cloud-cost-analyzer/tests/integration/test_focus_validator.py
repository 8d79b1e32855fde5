"""The FOCUS export checked by the FinOps Foundation's own focus-validator 2.2.1.

The validator needs Python 3.12, numpy < 2 and pyarrow < 20, so it lives in a side venv
built once per lock hash from the reference-owned `tools/focus-validator/uv.lock` (cached
under ~/.cache/costwatch). It reads its currency list by a relative path, so it runs with
its site-packages as the working directory. The FOCUS 1.2 rules ship inside the wheel
(`--block-download`: no network at validation time).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from costwatch.cli import cli
from tests.unit.test_cli import _sample_store

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.external(reason="focus-validator needs a Python 3.12 interpreter",
                                   requires=["python3.12"])]
TOOL = Path(__file__).resolve().parents[2] / "tools" / "focus-validator"


def _python312() -> str | None:
    home = Path.home()
    candidates = [shutil.which("python3.12"), "/usr/bin/python3.12",
                  *sorted(str(p) for p in home.glob(".pyenv/versions/3.12*/bin/python3.12"))]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and "(3, 12)" in probe.stdout:
            return candidate
    return None


@pytest.fixture(scope="session")
def focus_validator() -> Iterator[Path]:
    """The venv's root, built from the lock (once per lock hash)."""
    python = _python312()
    if python is None:
        pytest.skip("no working Python 3.12 interpreter for focus-validator")
    digest = hashlib.sha256((TOOL / "uv.lock").read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    venv = cache / "costwatch" / f"focus-validator-{digest}"
    if not (venv / "bin" / "focus-validator").exists():
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv),
               "UV_PYTHON_DOWNLOADS": "never"}
        env.pop("VIRTUAL_ENV", None)
        subprocess.run(["uv", "sync", "--locked", "--quiet", "--project", str(TOOL),
                        "--python", python], env=env, check=True, timeout=600)
    yield venv


@pytest.mark.points(2)
def test_export_passes_focus_validator(focus_validator: Path, tmp_path: Path) -> None:
    store = _sample_store(tmp_path)
    target = tmp_path / "focus.parquet"
    result = CliRunner().invoke(cli, ["export", "--focus", "--out", str(target)],
                                env={"COSTWATCH_STORE": str(store)})
    assert result.exit_code == 0, result.output
    site = next((focus_validator / "lib").glob("python3.12/site-packages"))
    run = subprocess.run([str(focus_validator / "bin" / "focus-validator"), "--data-file",
                          str(target), "--validate-version", "1.2", "--block-download"],
                         cwd=site, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = re.search(r"Total: (\d+) \| Pass: (\d+) \| Fail: (\d+)", run.stdout)
    assert summary, run.stdout[-2000:]
    failed = set(re.findall(r"^- ([A-Za-z]+-[A-Z]-\d+-[A-Z]):", run.stdout, re.MULTILINE))
    # InvoiceId's two nullability branches (C-004 "null if not invoiced", C-005 "not null
    # if invoiced") have no condition in the 1.2 model, so one always fails while their
    # OR parent, InvoiceId-C-003-C, passes. Everything else must pass.
    assert failed <= {"InvoiceId-C-004-C", "InvoiceId-C-005-C"}, failed
    assert re.search(r"InvoiceId-C-003-C: PASS", run.stdout)
    assert int(summary.group(2)) >= 100
