"""Write the Airflow constraints file from uv.lock (the official one is unreachable from CI).

    python -m mlworkflows.constraints deploy/constraints-airflow-3.3.2.txt
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aiinfra_shared.io import atomic_write_text

HEADER = """\
# Constraints for apache-airflow 3.3.2 on Python 3.11 (+ this exercise's providers and ML deps).
# The official constraints URL is not reachable from CI here, so this file is generated from
# uv.lock:  make constraints   (tests check it still matches the lock).
# Use:     pip install -c deploy/constraints-airflow-3.3.2.txt "apache-airflow==3.3.2" ...
"""


def export_constraints() -> str:
    out = subprocess.run(
        ["uv", "export", "--format", "requirements-txt", "--no-hashes", "--no-dev",
         "--no-emit-project", "--no-emit-package", "aiinfra-shared", "--no-header", "--quiet"],
        capture_output=True, text=True, check=True).stdout
    return HEADER + "".join(line + "\n" for line in out.splitlines()
                            if line.strip() and not line.lstrip().startswith("#"))


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/constraints-airflow-3.3.2.txt")
    atomic_write_text(target, export_constraints())
    print(f"wrote {target}")
