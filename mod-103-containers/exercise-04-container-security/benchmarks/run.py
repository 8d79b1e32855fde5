"""Benchmarks for imgsec (make bench): results.json and the README table.

1. Matching 5,000 packages against 50,000 generated OSV records: the indexed SQLite lookup
   vs a full scan of the same table (`NOT INDEXED`), interleaved A-B-B-A in one run, goal
   >= 20x. The records are synthetic (names, ranges), built here with a fixed seed.
2. A full `imgsec` scan of the planted image (load + inventory + match + secrets + checks)
   vs `syft` alone producing its SBOM of the same docker-archive.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    measure,
    results_document,
    update_readme,
    write_results,
)

from imgsec import planted
from imgsec.adapters.imagefiles import load_docker_archive
from imgsec.adapters.syft import run_syft
from imgsec.adapters.vulndb import VulnDB, import_records, read_osv_sources
from imgsec.catalog.package import Package
from imgsec.matching import find_vulnerabilities
from imgsec.scan import scan

HERE = Path(__file__).resolve().parent
N_PACKAGES, N_RECORDS, N_NAMES = 5_000, 50_000, 20_000


def synthetic(seed: int = 7) -> tuple[list[Package], list[dict[str, object]]]:
    rng = random.Random(seed)  # noqa: S311 -- reproducible synthetic data, not crypto
    names = [f"pkg-{i:05d}" for i in range(N_NAMES)]
    records: list[dict[str, object]] = []
    for i in range(N_RECORDS):
        ecosystem = "PyPI" if i % 2 else "npm"
        intro = f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.0"
        fixed = f"{rng.randint(4, 6)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        records.append({"id": f"BENCH-{i}", "modified": "2026-01-01T00:00:00Z",
                        "affected": [{"package": {"ecosystem": ecosystem,
                                                  "name": rng.choice(names)},
                                      "ranges": [{"type": "SEMVER" if ecosystem == "npm" else
                                                  "ECOSYSTEM", "events": [{"introduced": intro},
                                                                          {"fixed": fixed}]}]}]})
    packages = [Package(name=rng.choice(names), version=f"{rng.randint(0, 7)}.{rng.randint(0, 9)}"
                        f".{rng.randint(0, 9)}", type="npm" if i % 2 == 0 else "pypi",
                        ecosystem="npm" if i % 2 == 0 else "PyPI", path="bench")
                for i in range(N_PACKAGES)]
    return packages, records


def bench_matching(work: Path) -> dict[str, object]:
    packages, records = synthetic()
    db_path = work / "bench.db"
    start = time.perf_counter()
    import_records(db_path, records, "synthetic", replace=True)
    import_s = time.perf_counter() - start
    with VulnDB(db_path) as db:
        hits = len(find_vulnerabilities(packages, db))
        assert hits == len(find_vulnerabilities(packages, db, indexed=False))
        # A = full scan, B = index: speedup = how many times faster the index is.
        comparison = compare_abba(lambda: (find_vulnerabilities(packages, db, indexed=False),
                                           None)[1],
                                  lambda: (find_vulnerabilities(packages, db), None)[1],
                                  rounds=2)
    return {"packages": N_PACKAGES, "records": N_RECORDS, "findings": hits,
            "import_s": round(import_s, 2), **comparison.as_dict()}


def bench_planted(work: Path) -> dict[str, object]:
    from aiinfra_shared.procs.images import ImageBuilder

    builder = ImageBuilder(work / "buildah")
    image = builder.build(planted.containerfile(), planted.context_files(),
                          reference=planted.REFERENCE, build_args=planted.build_args())
    db_path = work / "fixture.db"
    import_records(db_path, read_osv_sources([planted.OSV_FIXTURES]), "fixtures", replace=True)

    def full_scan() -> None:
        with VulnDB(db_path) as db:
            scan(load_docker_archive(image.docker_archive), db)

    imgsec_stats = measure(full_scan, runs=5, warmup=1)
    syft_stats = measure(lambda: run_syft(image.docker_archive_reference), runs=5, warmup=1)
    builder.cleanup()
    return {"imgsec_full_scan": imgsec_stats.as_dict(), "syft_sbom_only": syft_stats.as_dict()}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="imgsec-bench-") as tmp:
        work = Path(tmp)
        matching = bench_matching(work)
        planted_scan = bench_planted(work)
    speed = matching["speedup"]
    rows = [
        ["match 5,000 pkgs vs 50,000 OSV records: full table scan (A)",
         f"{matching['a']['median']:.2f} s", f"[{matching['a']['ci_low']:.2f}, "  # type: ignore[index]
         f"{matching['a']['ci_high']:.2f}]", "-"],  # type: ignore[index]
        ["same, indexed SQLite lookup (B)", f"{matching['b']['median']:.3f} s",  # type: ignore[index]
         f"[{matching['b']['ci_low']:.3f}, {matching['b']['ci_high']:.3f}]", "-"],  # type: ignore[index]
        ["index speedup A/B (goal >= 20x)", f"{speed['median']:.0f}x",  # type: ignore[index]
         f"[{speed['ci_low']:.0f}, {speed['ci_high']:.0f}]", "ok" if speed["median"] >= 20  # type: ignore[index]
         else "below goal"],
        ["full imgsec scan of the planted image",
         f"{planted_scan['imgsec_full_scan']['median']:.2f} s",  # type: ignore[index]
         f"[{planted_scan['imgsec_full_scan']['ci_low']:.2f}, "  # type: ignore[index]
         f"{planted_scan['imgsec_full_scan']['ci_high']:.2f}]", "-"],  # type: ignore[index]
        ["syft alone (SBOM only), same archive",
         f"{planted_scan['syft_sbom_only']['median']:.2f} s",  # type: ignore[index]
         f"[{planted_scan['syft_sbom_only']['ci_low']:.2f}, "  # type: ignore[index]
         f"{planted_scan['syft_sbom_only']['ci_high']:.2f}]", "-"],  # type: ignore[index]
    ]
    table = markdown_table(["benchmark", "median", "95% CI", "goal"], rows)
    document = results_document("103-04", {"matching": matching, "planted": planted_scan},
                                notes="A-B-B-A interleaved for the index ratio (2 rounds); "
                                      "5 runs after 1 warm-up for the scans")
    write_results(HERE / "results.json", document)
    update_readme(HERE.parent / "README.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
