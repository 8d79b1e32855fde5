"""Session fixtures: the planted image is built once (buildah via the shared
`oci_image_builder`), pushed once to the shared registry, and the fixture DB imported once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs.images import BuiltImage, ImageBuilder
from aiinfra_shared.procs.services import OciRegistry

from imgsec import planted
from imgsec.adapters.vulndb import import_records, read_osv_sources

EXE = str(Path(sys.executable).parent / "imgsec")


@pytest.fixture(scope="session")
def planted_image(oci_image_builder: ImageBuilder) -> BuiltImage:
    return oci_image_builder.build(planted.containerfile(), planted.context_files(),
                                   reference=planted.REFERENCE, build_args=planted.build_args())


@pytest.fixture(scope="session")
def pushed_ref(oci_image_builder: ImageBuilder, planted_image: BuiltImage,
               oci_registry: OciRegistry) -> str:
    return oci_image_builder.push(planted_image, oci_registry.host, "team/planted", tag="1.0")


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_path = tmp_path_factory.mktemp("db") / "fixture.db"
    import_records(db_path, read_osv_sources([planted.OSV_FIXTURES]), "fixtures/osv",
                   replace=True)
    return db_path


def run_cli(*args: str, db: Path | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script, as CI runs it."""
    full_env = dict(os.environ, **(env or {}))
    if db is not None:
        full_env["IMGSEC_DB_PATH"] = str(db)
    full_env.setdefault("IMGSEC_CACHE_DIR", str((cwd or Path.cwd()) / ".imgsec-cache"))
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=False,
                          env=full_env, cwd=cwd, timeout=300)


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(proc.stdout)
    return payload
