"""`make run`: train with DDP on 2 processes, kill a worker, resume, print the scaling table.

Everything goes through the `disttrain` CLI, as a user would type it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from aiinfra_shared.procs.ports import free_port

EXE = str(Path(sys.executable).parent / "disttrain")


def step(title: str, *args: str) -> None:
    print(f"\n$ disttrain {' '.join(args)}    # {title}", flush=True)
    result = subprocess.run([EXE, *args], check=False)
    if result.returncode != 0:
        sys.exit(f"demo step failed ({title}): exit {result.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("build/demo"))
    args = parser.parse_args()
    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    ck = out / "checkpoints"
    step("DDP on 2 gloo ranks; rank 1 is SIGKILLed at step 25; torchrun restarts the group",
         "launch", "--nproc", "2", "--steps", "40", "--checkpoint-every", "10",
         "--checkpoint-dir", str(ck), "--kill-at-step", "25", "--max-restarts", "3",
         "--port", str(free_port()), "--out", str(out / "ddp"))
    print(f"checkpoints kept: {sorted(p.name for p in ck.glob('step-*'))}")
    step("a planted straggler is named", "launch", "--nproc", "2", "--steps", "10",
         "--inject-delay", "rank=1,ms=50", "--port", str(free_port()),
         "--out", str(out / "straggler"))
    step("ranks agree and DDP/FSDP land on the single-process weights", "verify",
         "--nproc", "2", "--steps", "8", "--out", str(out / "verify"))
    step("manifests for a cluster", "manifests", "--out", str(out / "k8s"))
    step("scaling: 1 vs 2 processes and a ring-model projection", "scale", "--steps", "20",
         "--out", str(out / "scale"))


if __name__ == "__main__":
    main()
