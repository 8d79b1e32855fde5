"""`make run`: init -> create -> doctor -> export on a sample project, with no network.

A local package index (tiny wheels served over HTTP on loopback) stands in for PyPI so the
demo runs anywhere; point ENVMAN_INDEX_URL at your own index to use real packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiinfra_shared.procs.ports import free_port  # noqa: E402
from aiinfra_shared.procs.process import ServiceProcess  # noqa: E402

from tests.support.wheelhouse import build_wheelhouse, serve_command  # noqa: E402

ENVMAN = str(Path(sys.executable).parent / "envman")


def step(project: Path, *args: str, check: bool = True) -> int:
    print(f"\n$ envman {' '.join(args)}", flush=True)
    code = subprocess.run([ENVMAN, "-C", str(project), *args], check=False).returncode
    if check and code != 0:
        sys.exit(f"demo: `envman {' '.join(args)}` failed with exit code {code}")
    return code


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="envman-demo-") as tmp:
        work = Path(tmp)
        house = build_wheelhouse(work / "wheelhouse")
        port = free_port()
        url = f"http://127.0.0.1:{port}/simple/"
        server = ServiceProcess("index", serve_command(house, port), work / "index.log",
                                ready_http=url, timeout=30)
        server.start()
        os.environ.update({"ENVMAN_INDEX_URL": url, "PIP_CONFIG_FILE": os.devnull,
                           "ENVMAN_CONFIG": str(work / "no-user-config.toml")})
        try:
            project = work / "sample-ml-project"
            project.mkdir()
            (project / "requirements.txt").write_text("emt-app>=1.0\nemt-plot\n")
            (project / "requirements-dev.txt").write_text("emt-devtool\n")
            step(project, "init", "--backend", "uv",
                 "--python", f"{sys.version_info[0]}.{sys.version_info[1]}")
            print((project / "envman.toml").read_text())
            step(project, "create")
            step(project, "info")
            step(project, "doctor")
            print("\n# drift: install an undeclared package behind envman's back")
            subprocess.run([ENVMAN, "-C", str(project), "run", "--", "uv", "pip", "install",
                            "-q", "--index-url", url, "emt-extra"], check=True)
            step(project, "doctor", check=False)
            step(project, "doctor", "--fix")
            step(project, "export", "--format", "conda", "--stdout")
            step(project, "export", "--format", "dockerfile")
            print((project / "Dockerfile").read_text())
        finally:
            server.stop()


if __name__ == "__main__":
    main()
