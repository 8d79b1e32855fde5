"""The sample app `make run` and the benchmark optimise (files beside this module).

`materialize()` writes it into a build context; the 2 MB "tool" binary is generated from a
fixed seed there, so the repository holds no binary blob and every build is identical.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

HERE = Path(__file__).parent
TOOL_BYTES = 2 * 1024 * 1024


def materialize(target: Path) -> Path:
    """Copy the sample's Dockerfile and app/ into `target` and generate tool/tool.bin."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(HERE / "Containerfile", target / "Dockerfile")
    shutil.copytree(HERE / "app", target / "app", dirs_exist_ok=True)
    (target / "tool").mkdir(exist_ok=True)
    data = random.Random(1035).randbytes(TOOL_BYTES)  # noqa: S311 (sample bytes, not secrets)
    (target / "tool" / "tool.bin").write_bytes(data)
    return target
