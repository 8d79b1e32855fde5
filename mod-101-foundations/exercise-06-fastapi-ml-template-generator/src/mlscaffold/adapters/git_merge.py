"""Three-way text merge with `git merge-file` (git's own merge algorithm, no repository needed)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class GitUnavailableError(RuntimeError):
    """git is not installed."""


@dataclass(frozen=True)
class MergeResult:
    text: str
    conflicts: int


def merge_text(ours: str, base: str, theirs: str, *, ours_label: str = "yours",
               base_label: str = "base", theirs_label: str = "template") -> MergeResult:
    """Merge `theirs` (the new template render) into `ours` (the user's file) against `base`
    (the render the user started from). Conflicts are left as standard conflict markers."""
    # BEGIN SOLUTION: run git merge-file -p on temp files; its exit code counts conflicts
    git = shutil.which("git")
    if git is None:
        raise GitUnavailableError("git is required for `mlscaffold update` (apt install git)")
    with tempfile.TemporaryDirectory(prefix="mlscaffold-merge-") as tmp:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_text(text)
            paths.append(str(path))
        proc = subprocess.run(
            [git, "merge-file", "-p", "-L", ours_label, "-L", base_label, "-L", theirs_label,
             *paths],
            capture_output=True, text=True, check=False,
        )
    # Exit status: number of conflicts (>= 0); negative (>127 as unsigned) means an error.
    if proc.returncode < 0 or proc.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {proc.stderr.strip()}")
    return MergeResult(proc.stdout, proc.returncode)
    # END SOLUTION
