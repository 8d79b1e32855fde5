"""The console script end to end: reports, gate exit codes, VEX, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from aiinfra_shared.procs.images import BuiltImage

from tests.integration.conftest import report, run_cli

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data"
IMAGE_VEX = "GHSA-35jh-r3h4-6jhm"


def vex_doc(path: Path, image_id: str, status: str = "not_affected") -> Path:
    path.write_text(json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/planted",
        "author": "platform security", "timestamp": "2026-11-01T00:00:00Z", "version": 1,
        "statements": [{
            "vulnerability": {"name": IMAGE_VEX, "aliases": ["CVE-2021-23337"]},
            "products": [{"@id": f"pkg:oci/planted@{image_id.replace(':', '%3A')}",
                          "subcomponents": [{"@id": "pkg:npm/lodash"}]}],
            "status": status, "justification": "vulnerable_code_not_in_execute_path"}]}))
    return path


@pytest.mark.points(3)
def test_gate_exit_codes(planted_image: BuiltImage, fixture_db: Path) -> None:
    archive = str(planted_image.docker_archive)
    failing = run_cli("scan", archive, "--json", "--fail-on", "high", db=fixture_db)
    assert failing.returncode == 1, failing.stderr
    assert failing.stderr.strip().splitlines()[-1].startswith("error: gate failed")
    assert report(failing)["scorecard"]["grade"] == "F"
    rootfs = planted_image.docker_archive.parent / "context" / "rootfs" / "node_modules"
    clean = run_cli("scan", f"dir:{rootfs.parent / 'etc'}", "--json", db=fixture_db)
    assert clean.returncode == 0, clean.stderr


@pytest.mark.points(4)
@pytest.mark.hidden
def test_vex_suppresses_exactly_its_finding(planted_image: BuiltImage, fixture_db: Path,
                                            tmp_path: Path) -> None:
    archive = str(planted_image.docker_archive)
    before = report(run_cli("scan", archive, "--json", db=fixture_db))
    image_id = before["image"]["image_id"]
    after = report(run_cli("scan", archive, "--json", "--vex",
                           str(vex_doc(tmp_path / "v.json", image_id)), db=fixture_db))
    removed = {(v["id"], v["package"]) for v in before["vulnerabilities"]} - {
        (v["id"], v["package"]) for v in after["vulnerabilities"]}
    assert removed == {(IMAGE_VEX, "lodash")}
    [suppressed] = after["suppressed"]
    assert suppressed["id"] == IMAGE_VEX and suppressed["statement"]["justification"] == \
        "vulnerable_code_not_in_execute_path"
    assert len(after["vulnerabilities"]) == len(before["vulnerabilities"]) - 1


@pytest.mark.points(2)
def test_ignore_unfixed(planted_image: BuiltImage, fixture_db: Path) -> None:
    out = report(run_cli("scan", str(planted_image.docker_archive), "--json",
                         "--ignore-unfixed", db=fixture_db))
    assert {v["id"] for v in out["unfixed_ignored"]} == {"DEBIAN-CVE-2023-45853",
                                                         "IMGSEC-TEST-2026-0001"}
    assert all(v["fixed"] for v in out["vulnerabilities"])


@pytest.mark.points(3)
def test_sarif_and_html_reports(planted_image: BuiltImage, fixture_db: Path,
                                tmp_path: Path) -> None:
    sarif_path, html_path = tmp_path / "r.sarif", tmp_path / "r.html"
    proc = run_cli("scan", str(planted_image.docker_archive), "--format", "sarif", "-o",
                   str(sarif_path), "--html", str(html_path), "--fail-on", "critical",
                   db=fixture_db)
    assert proc.returncode == 1  # critical findings
    sarif = json.loads(sarif_path.read_text())
    schema = json.loads((DATA / "sarif-2.1.0-subset.schema.json").read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(sarif)
    rule_ids = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"PYSEC-2021-142", "secret/aws-access-key-pair", "CIS-DI-0010"} <= rule_ids
    html = html_path.read_text()
    assert '<p class="grade" id="grade">F</p>' in html and "<script" not in html
    for text in (sarif_path.read_text(), html):
        assert "AKIAIOSFODNN7EXAMPLE" not in text and "imgsec-planted-arg" not in text


def _copy_layout(planted_image: BuiltImage, tmp_path: Path) -> Path:
    layout = tmp_path / "layout"
    shutil.copytree(planted_image.oci_layout, layout)
    return layout


def _manifest(layout: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    path = layout / "blobs" / "sha256" / digest.split(":")[1]
    return path, json.loads(path.read_text())


@pytest.mark.points(4)
@pytest.mark.hidden
def test_bad_images_are_one_line_errors_without_reports(planted_image: BuiltImage,
                                                        fixture_db: Path,
                                                        tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.tar"
    data = planted_image.docker_archive.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    missing = _copy_layout(planted_image, tmp_path / "a")
    _, manifest = _manifest(missing)
    (missing / "blobs" / "sha256" / manifest["layers"][3]["digest"].split(":")[1]).unlink()
    unknown = _copy_layout(planted_image, tmp_path / "b")
    _path, manifest = _manifest(unknown)
    manifest["layers"][0]["mediaType"] = "application/vnd.example.layer.v9+lz4"
    new = json.dumps(manifest).encode()
    import hashlib

    digest = hashlib.sha256(new).hexdigest()
    (unknown / "blobs" / "sha256" / digest).write_bytes(new)
    index = json.loads((unknown / "index.json").read_text())
    index["manifests"][0].update(digest=f"sha256:{digest}", size=len(new))
    (unknown / "index.json").write_text(json.dumps(index))
    cases = [(str(truncated), 3, "truncated"), (str(missing), 3, "missing blob"),
             (str(unknown), 3, "unknown media type"),
             ("127.0.0.1:9/team/app:1.0", 5, "unreachable"),
             (str(tmp_path / "nope.tar"), 4, "no such file")]
    for spec, code, words in cases:
        out = tmp_path / "report.json"
        proc = run_cli("scan", spec, "--format", "json", "-o", str(out), db=fixture_db)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == code, (spec, proc.stderr)
        assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr
        assert not out.exists()


@pytest.mark.points(3)
def test_bad_osv_and_vex_leave_everything_unchanged(planted_image: BuiltImage,
                                                    fixture_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copyfile(fixture_db, db)
    before = db.read_bytes()
    bad = tmp_path / "osv"
    bad.mkdir()
    (bad / "ok.json").write_text(json.dumps({"id": "OK-1", "affected": []}))
    (bad / "zz.json").write_text(json.dumps({"id": "BROKEN-9", "affected": [
        {"package": {"ecosystem": "npm", "name": "x"},
         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1.0.0"}]}]}]}))
    proc = run_cli("db", "import", str(bad), db=db)
    assert proc.returncode == 3
    assert "zz.json: record BROKEN-9" in proc.stderr and db.read_bytes() == before
    vex = tmp_path / "bad.vex.json"
    vex_doc(vex, "sha256:x", status="wontfix")
    out = tmp_path / "r.json"
    proc = run_cli("scan", str(planted_image.docker_archive), "--vex", str(vex), "-o", str(out),
                   "--format", "json", db=db)
    assert proc.returncode == 3 and "unknown status 'wontfix'" in proc.stderr
    assert not out.exists()


@pytest.mark.points(2)
def test_db_import_safety_db_and_info(tmp_path: Path) -> None:
    db = tmp_path / "safety.db"
    proc = run_cli("db", "import", "--safety-db", "--json", db=db)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["records"] > 2000 and summary["sources"] == ["safety-db"]
    info = json.loads(run_cli("db", "info", "--json", db=db).stdout)
    assert info["records"] == summary["records"] and info["stale"] is False


@pytest.mark.points(2)
def test_dockerfile_scan_merges_hadolint(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:latest\nADD app.tar.gz /app\n"
                          "RUN apt-get update\nENV DEPLOY_TOKEN=dpl-0123456789abcdef\n")
    proc = run_cli("scan", str(dockerfile), "--json", "--fail-on", "critical")
    out = report(proc)
    codes = {x["code"] for x in out["lint"]}
    assert {"DL3007", "DL3009"} <= codes  # latest tag; apt lists not deleted
    assert [s["rule"] for s in out["secrets"]] == ["unquoted-token"]
    assert proc.returncode == 1  # the secret
