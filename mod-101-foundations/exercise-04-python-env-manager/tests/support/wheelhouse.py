"""Tiny real wheels and a PEP 503 "simple" index for them, so tests and benchmarks need no network.

The wheels are written by hand (a wheel is a zip with a METADATA, WHEEL and RECORD file), which
takes milliseconds and needs no build backend. `write_simple_index` lays out
`simple/<name>/index.html` pages that pip, uv and Poetry all accept when served over HTTP
(`python -m http.server`), exactly as a private package index would be.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Dist:
    name: str
    version: str
    requires: tuple[str, ...] = ()
    module_body: str = ""
    extra_files: dict[str, str] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return re.sub(r"[-.]+", "_", self.name).lower()


# The fixed package set used by tests and `make bench`: a small dependency graph.
DISTS: tuple[Dist, ...] = (
    Dist("emt-core", "1.0.0", module_body="VERSION = '1.0.0'\n"),
    Dist("emt-core", "2.0.0", module_body="VERSION = '2.0.0'\n"),
    Dist("emt-utils", "1.0.0", requires=("emt-core>=1.0",)),
    Dist("emt-app", "1.0.0", requires=("emt-utils>=1.0", "emt-core<2"),
         module_body="def hello() -> str:\n    return 'hello from emt-app'\n"),
    Dist("emt-extra", "0.5.0"),
    Dist("emt-devtool", "3.1.0", requires=("emt-core",)),
    Dist("emt-plot", "0.2.0", requires=("emt-utils",)),
    # Twenty leaf packages: a dependency set large enough for the create benchmark.
    *(Dist(f"emt-leaf{i:02d}", "1.0.0", module_body=f"N = {i}\n" * 50) for i in range(20)),
)


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp makes the wheels byte-identical across runs (stable hashes for caches).
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_wheel(dist: Dist, out_dir: Path) -> Path:
    """Write `dist` as a pure-Python py3-none-any wheel into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    norm = dist.module
    info = f"{norm}-{dist.version}.dist-info"
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {dist.name}",
        f"Version: {dist.version}",
        "Summary: envman test package",
        *(f"Requires-Dist: {req}" for req in dist.requires),
    ]
    files: dict[str, str] = {
        f"{norm}/__init__.py": dist.module_body or f"VERSION = {dist.version!r}\n",
        **dist.extra_files,
        f"{info}/METADATA": "\n".join(metadata) + "\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: envman-tests\n"
                         "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    path = out_dir / f"{norm}-{dist.version}-py3-none-any.whl"
    records = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            data = text.encode()
            zf.writestr(_entry(name), data)
            records.append(f"{name},{_record_hash(data)},{len(data)}")
        records.append(f"{info}/RECORD,,")
        zf.writestr(_entry(f"{info}/RECORD"), "\n".join(records) + "\n")
    return path


def build_wheelhouse(root: Path, dists: tuple[Dist, ...] = DISTS) -> Path:
    """Build every wheel into `root/files` and a simple index into `root/simple`; return root."""
    files = root / "files"
    by_project: dict[str, list[Path]] = {}
    for dist in dists:
        wheel = build_wheel(dist, files)
        by_project.setdefault(re.sub(r"[-_.]+", "-", dist.name).lower(), []).append(wheel)
    write_simple_index(root / "simple", by_project)
    return root


def write_simple_index(simple: Path, by_project: dict[str, list[Path]]) -> None:
    simple.mkdir(parents=True, exist_ok=True)
    links = "".join(f'<a href="{n}/">{n}</a>\n' for n in sorted(by_project))
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    for project, wheels in by_project.items():
        page = simple / project
        page.mkdir(exist_ok=True)
        anchors = "".join(
            f'<a href="../../files/{html.escape(w.name)}#sha256='
            f'{hashlib.sha256(w.read_bytes()).hexdigest()}">{html.escape(w.name)}</a>\n'
            for w in sorted(wheels)
        )
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{anchors}</body></html>\n")


def serve_command(root: Path, port: int) -> list[str]:
    """Serve the wheelhouse over HTTP on loopback (a real package index for pip/uv/Poetry)."""
    import sys

    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
            "--directory", str(root)]
