"""git: refs, cleanliness, files at a ref: everything the pipeline compares against."""

from __future__ import annotations

from pathlib import Path

from mlcicd.adapters.proc import last_line, run
from mlcicd.errors import ConflictError, MlcicdError, NotFoundError


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, *args: str, check: bool = True, strip: bool = True) -> str:
        result = run(["git", *args], cwd=self.root)
        if check and result.returncode != 0:
            raise MlcicdError(f"git {args[0]} failed: {last_line(result.stderr)}")
        return result.stdout.strip() if strip else result.stdout

    def is_repo(self) -> bool:
        return run(["git", "rev-parse", "--git-dir"], cwd=self.root).returncode == 0

    def resolve(self, ref: str) -> str:
        """The commit of `ref`, trying `origin/<ref>` too (CI checkouts have no local main)."""
        for candidate in (ref, f"origin/{ref}"):
            result = run(["git", "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"],
                         cwd=self.root)
            if result.returncode == 0:
                return result.stdout.strip()
        raise NotFoundError(f"unknown base ref {ref!r} (not a branch, tag or commit here)")

    def head(self) -> str:
        return self("rev-parse", "HEAD")

    def dirty_files(self) -> list[str]:
        out = self("status", "--porcelain", "--untracked-files=no", strip=False)
        return [line[3:] for line in out.splitlines() if line.strip()]

    def require_clean(self, why: str) -> None:
        dirty = self.dirty_files()
        if dirty:
            shown = ", ".join(dirty[:3]) + (" ..." if len(dirty) > 3 else "")
            raise ConflictError(f"working tree has uncommitted changes ({shown}): "
                                f"commit them before {why}")

    def show(self, ref: str, path: str) -> str | None:
        """The file's text at `ref`, or None when it did not exist there."""
        result = run(["git", "show", f"{ref}:{path}"], cwd=self.root)
        return result.stdout if result.returncode == 0 else None
