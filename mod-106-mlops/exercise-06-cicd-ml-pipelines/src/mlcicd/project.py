"""`mlcicd init`: a template ML project under git and DVC 3, ready for `dvc repro`.

The project is assembled in a temp folder beside the target and renamed into place only once
git, DVC, the data and the remotes are all set up: a failure leaves nothing half-made.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from aiinfra_shared.io import atomic_write_text
from sklearn.datasets import load_breast_cancer

from mlcicd.adapters.dvc import Dvc
from mlcicd.adapters.git import Git
from mlcicd.errors import ConflictError, MlcicdError
from mlcicd.validation import build_profile

RAW_DATA = "data/raw/breast_cancer.csv"
LFS_SAMPLES = "samples/requests.npy"


@dataclass(frozen=True)
class InitOptions:
    local_remote: Path
    s3_url: str | None = None
    s3_endpoint: str | None = None
    lfs: bool = True


def bundled_data() -> pd.DataFrame:
    """scikit-learn's breast-cancer table (ships inside scikit-learn: no download), with an id."""
    frame = load_breast_cancer(as_frame=True).frame
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def template_root() -> Path:
    return Path(str(resources.files("mlcicd") / "template"))


def init_project(target: Path, options: InitOptions) -> Path:
    """Create the project at `target` (must not exist or be empty)."""
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise ConflictError(f"{target} exists and is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=target.parent))
    try:
        _populate(staging, options)
        if target.exists():
            target.rmdir()
        staging.rename(target)
        _fix_after_move(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _populate(root: Path, options: InitOptions) -> None:
    shutil.copytree(template_root(), root, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    data = bundled_data()
    raw = root / RAW_DATA
    raw.parent.mkdir(parents=True, exist_ok=True)
    data.to_csv(raw, index=False)
    atomic_write_text(root / "data/reference/profile.json",
                      json.dumps(build_profile(data), indent=1) + "\n")
    git = Git(root)
    git("init", "-q", "-b", "main")
    git("config", "user.email", "ci@example.com")
    git("config", "user.name", "mlcicd")
    if options.lfs:
        _lfs_samples(root, data, git)
    dvc = Dvc(root)
    dvc("init", "-q")
    options.local_remote.mkdir(parents=True, exist_ok=True)
    # Written directly (DVC's INI format) rather than by three `dvc remote` calls: each DVC
    # start costs about a second.
    atomic_write_text(root / ".dvc" / "config", dvc_config(options))
    dvc("add", "-q", RAW_DATA)
    git("add", "-A")
    git("commit", "-q", "-m", "mlcicd init: template project")


def dvc_config(options: InitOptions) -> str:
    """.dvc/config: autostage, the default local remote, and the S3 remote when asked for."""
    lines = ["[core]", "    remote = local", "    autostage = true",
             "['remote \"local\"']", f"    url = {options.local_remote.resolve()}"]
    if options.s3_url:
        lines += ["['remote \"s3\"']", f"    url = {options.s3_url}"]
        if options.s3_endpoint:
            lines.append(f"    endpointurl = {options.s3_endpoint}")
    return "\n".join(lines) + "\n"


def _lfs_samples(root: Path, data: pd.DataFrame, git: Git) -> None:
    """Binary request samples for the serving model: Git LFS material (small, binary, read by
    people and tests), unlike the training data, which DVC versions."""
    samples = root / LFS_SAMPLES
    samples.parent.mkdir(parents=True, exist_ok=True)
    features = [c for c in data.columns if c not in ("id", "target")]
    np.save(samples, data[features].head(16).to_numpy(dtype=np.float64))
    try:
        git("lfs", "install", "--local")
    except MlcicdError as exc:
        raise MlcicdError(f"git-lfs is needed for {LFS_SAMPLES} ({exc}); use --no-lfs") from exc
    git("lfs", "track", "samples/*.npy")


def _fix_after_move(root: Path) -> None:
    """Nothing in git or DVC config records the staging path; verify that stays true."""
    for config in (root / ".dvc" / "config", root / ".git" / "config"):
        if config.exists() and ".init-" in config.read_text():
            raise MlcicdError(f"{config} refers to the staging folder")
