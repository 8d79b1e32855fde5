from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"


def fleet_dict() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((EXAMPLES / "fleet.yaml").read_text()))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script (the entry point), as a learner runs it."""
    exe = Path(sys.executable).parent / "gpufleet"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=False,
                          cwd=cwd or ROOT, timeout=120)


def write_fleet(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
