"""Running an image without a daemon: umoci unpacks the OCI layout into a rootfs, chroot
runs a command in it, optionally under `strace -f -e trace=%file`.

Needs root (chroot, and umoci keeping file owners); every command has a hard timeout and
its process group is killed when it runs past it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from imgopt.adapters.tools import find_tool
from imgopt.errors import ToolError


@dataclass(frozen=True)
class RunResult:
    command: str
    returncode: int
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def unpack(oci_layout: Path, tag: str, bundle: Path, timeout: float = 120.0) -> Path:
    """`umoci unpack` into `bundle`; returns its rootfs directory."""
    umoci = find_tool("umoci", "apt-get install umoci (make setup)")
    result = subprocess.run([umoci, "unpack", "--image", f"{oci_layout}:{tag}", str(bundle)],
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"umoci unpack failed: {tail[0]}")
    return bundle / "rootfs"


def run_in(rootfs: Path, argv: list[str], timeout: float, trace_file: Path | None = None,
           env: dict[str, str] | None = None) -> RunResult:
    """`chroot ROOTFS ARGV...` (under strace writing `trace_file` when given)."""
    chroot = find_tool("chroot", "coreutils")
    command = [chroot, str(rootfs), *argv]
    if trace_file is not None:
        strace = find_tool("strace", "apt-get install strace (make setup)")
        command = [strace, "-f", "-qq", "-e", "trace=%file,chdir,fchdir", "-o",
                   str(trace_file), *command]
    run_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": "/root", **(env or {})}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=run_env, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return RunResult(" ".join(argv), -9, output.decode(errors="replace"), timed_out=True)
    return RunResult(" ".join(argv), process.returncode, output.decode(errors="replace"))
