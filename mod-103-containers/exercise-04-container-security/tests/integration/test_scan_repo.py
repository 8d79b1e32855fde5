"""scan-repo against the shared registry: every tag, cached by digest + DB version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from aiinfra_shared.procs.images import BuiltImage, ImageBuilder
from aiinfra_shared.procs.services import OciRegistry

from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration

CLEAN = """FROM scratch
COPY etc/ /etc/
USER 10001
"""


@pytest.mark.points(4)
@pytest.mark.slow
def test_scan_repo_caches_by_digest(oci_image_builder: ImageBuilder, planted_image: BuiltImage,
                                    oci_registry: OciRegistry, fixture_db: Path,
                                    tmp_path: Path) -> None:
    repo = "team/scanrepo"
    oci_image_builder.push(planted_image, oci_registry.host, repo, tag="1.0")
    oci_image_builder.push(planted_image, oci_registry.host, repo, tag="1.1")  # same digest
    clean = oci_image_builder.build(CLEAN, {"etc/passwd": "app:x:10001:10001::/:/bin/sh\n"},
                                    busybox=False, reference="localhost/imgsec/clean:2.0")
    oci_image_builder.push(clean, oci_registry.host, repo, tag="2.0")
    db = tmp_path / "db.sqlite"
    shutil.copyfile(fixture_db, db)
    env = {"IMGSEC_CACHE_DIR": str(tmp_path / "cache")}
    first = run_cli("scan-repo", f"{oci_registry.host}/{repo}", "--json", db=db, env=env)
    assert first.returncode == 0, first.stderr
    rows = {r["tag"]: r for r in json.loads(first.stdout)}
    assert sorted(rows) == ["1.0", "1.1", "2.0"]
    assert rows["1.0"]["digest"] == rows["1.1"]["digest"] != rows["2.0"]["digest"]
    assert [rows[t]["cached"] for t in ("1.0", "1.1", "2.0")] == [False, True, False]
    assert rows["1.0"]["scorecard"]["grade"] == "F"
    assert "PYSEC-2021-142" in rows["1.0"]["vulnerabilities"]
    second = json.loads(run_cli("scan-repo", f"{oci_registry.host}/{repo}", "--json", db=db,
                                env=env).stdout)
    assert all(r["cached"] for r in second)
    # A new database version invalidates the cache.
    run_cli("db", "import", str(Path(__file__).resolve().parents[2] / "fixtures" / "osv"),
            db=db)
    third = json.loads(run_cli("scan-repo", f"{oci_registry.host}/{repo}", "--json", db=db,
                               env=env).stdout)
    assert [r["cached"] for r in third] == [False, True, False]


@pytest.mark.points(1)
def test_registry_credentials_come_from_docker_config(planted_image: BuiltImage,
                                                      pushed_ref: str, fixture_db: Path,
                                                      tmp_path: Path) -> None:
    """An authfile is passed to skopeo (the loopback registry accepts any credentials)."""
    import base64

    host = pushed_ref.split("/")[0]
    config = tmp_path / "docker" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"auths": {host: {
        "auth": base64.b64encode(b"ci:secret").decode()}}}))
    proc = run_cli("scan", pushed_ref, "--json", "--fail-on", "critical", db=fixture_db,
                   env={"DOCKER_CONFIG": str(config.parent)})
    assert proc.returncode == 1 and json.loads(proc.stdout)["image"]["source"] == "registry"
    missing = run_cli("scan", pushed_ref.replace("planted", "absent"), db=fixture_db)
    assert missing.returncode == 4 and "not found" in missing.stderr


@pytest.mark.external(reason="trivy and grype binaries are not obtainable here",
                      requires=["trivy", "grype"])
@pytest.mark.points(1)
def test_real_trivy_and_grype_reports_merge(planted_image: BuiltImage, tmp_path: Path) -> None:
    import subprocess

    from imgsec.multitool import merge, parse_grype, parse_trivy

    archive = str(planted_image.docker_archive)
    trivy = subprocess.run(["trivy", "image", "--format", "json", "--input", archive],
                           capture_output=True, text=True, check=True, timeout=600)
    grype = subprocess.run(["grype", f"docker-archive:{archive}", "-o", "json"],
                           capture_output=True, text=True, check=True, timeout=600)
    rows = merge(parse_trivy(json.loads(trivy.stdout)), parse_grype(json.loads(grype.stdout)))
    assert any(r.tools == {"trivy", "grype"} for r in rows)
