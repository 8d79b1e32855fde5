"""`aiinfra new`: create an exercise folder from the standard skeleton."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent / "templates" / "exercise"
_PATH_RE = re.compile(r"^mod-\d{3}-[a-z0-9-]+/exercise-\d{2}-[a-z0-9-]+$")
_PKG_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ScaffoldError(ValueError):
    """The requested exercise path or package name is not acceptable."""


def title_from_slug(folder: str) -> str:
    slug = folder.split("-", 2)[2] if folder.count("-") >= 2 else folder
    return " ".join(word.capitalize() for word in slug.split("-"))


def render_skeleton(root: Path, relpath: str, package: str, title: str | None = None,
                    lock: bool = True) -> Path:
    """Render the skeleton into `root/relpath` atomically; optionally run `uv lock`."""
    relpath = relpath.strip("/")
    if not _PATH_RE.match(relpath):
        raise ScaffoldError(
            f"'{relpath}' is not of the form mod-NNN-name/exercise-NN-slug (lowercase)"
        )
    if not _PKG_RE.match(package):
        raise ScaffoldError(f"'{package}' is not a valid package name (lowercase, a-z0-9_)")
    target = root / relpath
    if target.exists():
        raise ScaffoldError(f"{relpath} already exists")
    module, folder = relpath.split("/")
    code = f"{module.split('-')[1]}-{folder.split('-')[1]}"
    tokens = {
        "__PKG__": package,
        "__DIST__": package.replace("_", "-"),
        "__TITLE__": title or title_from_slug(folder),
        "__CODE__": code,
        "__EXDIR__": relpath,
        "__ENVPREFIX__": package.upper() + "_",
    }
    staging = Path(tempfile.mkdtemp(prefix=".new-", dir=root))
    try:
        for source in sorted(TEMPLATE_DIR.rglob("*")):
            rel = source.relative_to(TEMPLATE_DIR).as_posix()
            if "__pycache__" in rel:
                continue
            destination = staging / rel.replace("__PKG__", package)
            if source.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            text = source.read_text()
            for token, value in tokens.items():
                text = text.replace(token, value)
            destination.write_text(text)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if lock:  # after the move: uv resolves `../../shared` against the final location
        result = subprocess.run(["uv", "lock", "--quiet"], cwd=target, capture_output=True,
                                text=True, check=False)
        if result.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise ScaffoldError(f"uv lock failed: {result.stderr.strip()}")
    return target
