"""The planted test image: its Containerfile, context and build ARG live in fixtures/planted.

Used by `imgsec demo`, the tests and the benchmark, so all three scan the same image.
"""

from __future__ import annotations

from pathlib import Path

EXERCISE_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = EXERCISE_ROOT / "fixtures"
PLANTED = FIXTURES / "planted"
OSV_FIXTURES = FIXTURES / "osv"
REFERENCE = "localhost/imgsec/planted:1.0"


def context_files() -> dict[str, bytes]:
    return {str(p.relative_to(PLANTED)): p.read_bytes()
            for p in sorted((PLANTED / "rootfs").rglob("*")) if p.is_file()}


def containerfile() -> str:
    return (PLANTED / "Containerfile").read_text()


def build_args() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (PLANTED / "build-args.env").read_text().splitlines()
             if "=" in line)
    return {key: value for key, value in pairs}
