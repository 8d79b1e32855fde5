"""`imgsec demo` (make run): build the planted image with buildah, load the fixture advisories
into a fresh database, scan the image's docker-archive and write the HTML report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiinfra_shared.io import atomic_write_text

from imgsec import planted
from imgsec.adapters.imagefiles import load_docker_archive
from imgsec.adapters.vulndb import VulnDB, import_records, read_osv_sources
from imgsec.errors import UnavailableError
from imgsec.reports import to_html
from imgsec.scan import ScanResult, scan


@dataclass
class DemoReport:
    result: ScanResult
    html: Path
    archive: Path


def run_demo(out: Path) -> DemoReport:
    from aiinfra_shared.procs.binaries import MissingBinaryError
    from aiinfra_shared.procs.images import ImageBuilder, ImageBuildError

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        builder = ImageBuilder(out / "buildah")
        image = builder.build(planted.containerfile(), planted.context_files(),
                              reference=planted.REFERENCE, build_args=planted.build_args())
    except (MissingBinaryError, ImageBuildError) as exc:
        raise UnavailableError(f"cannot build the planted image: {str(exc).splitlines()[0]}") \
            from exc
    db_path = out / "fixture-vulns.db"
    import_records(db_path, read_osv_sources([planted.OSV_FIXTURES]), "fixtures/osv",
                   replace=True)
    with VulnDB(db_path) as db:
        result = scan(load_docker_archive(image.docker_archive), db)
        result.db = {"path": str(db_path), "records": db.info.records,
                     "built_at": db.info.built_at, "version": db.info.version,
                     "note": "hand-written fixture advisories (fixtures/osv), not a feed"}
    html = out / "report.html"
    atomic_write_text(html, to_html(result))
    return DemoReport(result, html, image.docker_archive)
