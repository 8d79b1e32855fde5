"""The model as an OCI artifact: model, golden set, metrics, params and dvc.lock, annotated with
what produced it (git sha, data hash, metrics, params) so a deployment can say where it came from.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from mlcicd.adapters.dvc import Dvc, data_hash
from mlcicd.adapters.git import Git
from mlcicd.adapters.registry import Registry
from mlcicd.errors import CheckFailedError, ConfigInvalidError

ARTIFACT_FILES = {"model.joblib": "models/model.joblib", "golden.json": "models/golden.json",
                  "metrics.json": "metrics.json", "params.yaml": "params.yaml",
                  "dvc.lock": "dvc.lock"}
ANN_REVISION = "org.opencontainers.image.revision"
ANN_VERSION = "org.opencontainers.image.version"
ANN_CREATED = "org.opencontainers.image.created"
ANN_DATA = "io.mlcicd.data.md5"
ANN_METRICS = "io.mlcicd.metrics"
ANN_PARAMS = "io.mlcicd.params"


@dataclass(frozen=True)
class Pushed:
    ref: str
    version_ref: str
    digest: str
    annotations: dict[str, str]


def annotations_for(root: Path, version: str, revision: str) -> dict[str, str]:
    """Annotations from the committed pipeline state (dvc.lock, metrics.json, params.yaml)."""
    lock = Dvc(root).lock()
    metrics_path = root / "metrics.json"
    if not metrics_path.exists():
        raise ConfigInvalidError("metrics.json is missing: run `dvc repro` first")
    params = yaml.safe_load((root / "params.yaml").read_text()) or {}
    return {
        ANN_REVISION: revision,
        ANN_VERSION: version,
        ANN_CREATED: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ANN_DATA: data_hash(lock),
        ANN_METRICS: json.dumps(json.loads(metrics_path.read_text()), sort_keys=True),
        ANN_PARAMS: json.dumps(params.get("train", {}), sort_keys=True),
    }


def check_pipeline_state(root: Path) -> None:
    """Refuse to package what the pipeline did not accept: failed validation or stale outputs."""
    validation = root / "reports" / "validation.json"
    if not validation.exists() or json.loads(validation.read_text()).get("valid") != 1:
        raise CheckFailedError("data validation did not pass (reports/validation.json): "
                               "nothing pushed")
    status = Dvc(root).json("status")
    if status:
        stale = ", ".join(sorted(status)[:3])
        raise CheckFailedError(f"pipeline outputs are stale ({stale}): run `dvc repro` and commit")
    for source in ARTIFACT_FILES.values():
        if not (root / source).exists():
            raise ConfigInvalidError(f"{source} is missing: run `dvc repro` first")


def push_folder(registry: Registry, repository: str, folder: Path, tags: list[str],
                annotations: dict[str, str]) -> Pushed:
    """Push the files in `folder` under the first tag, add the others as tags of the same
    manifest (one upload, several names)."""
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    first = f"{registry.host}/{repository}:{tags[0]}"
    registry.push(first, folder, files, annotations)
    for tag in tags[1:]:
        registry.tag(first, f"{registry.host}/{repository}:{tag}")
    last = f"{registry.host}/{repository}:{tags[-1]}"
    return Pushed(first, last, registry.digest(first), annotations)


def package(root: Path, registry: Registry, repository: str, version: str,
            require_clean: bool = True) -> Pushed:
    """Check the pipeline state, stage the artifact files flat, push, tag by sha and version."""
    git = Git(root)
    if require_clean:
        git.require_clean("packaging (the artifact records the git sha)")
    check_pipeline_state(root)
    revision = git.head()
    annotations = annotations_for(root, version, revision)
    with tempfile.TemporaryDirectory(prefix="mlcicd-artifact-") as tmp:
        folder = Path(tmp)
        for name, source in ARTIFACT_FILES.items():
            shutil.copy2(root / source, folder / name)
        return push_folder(registry, repository, folder, [revision[:12], version], annotations)


def artifact_annotations(manifest: dict[str, Any]) -> dict[str, str]:
    return dict(manifest.get("annotations") or {})
