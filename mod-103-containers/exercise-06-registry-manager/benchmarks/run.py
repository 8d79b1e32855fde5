"""Benchmarks for regman: write benchmarks/results.json and the README table.

1. Replication throughput (MB/s) for N images sharing base layers, between two real
   distribution registries on loopback.
2. Bytes moved when replicating again (goal: 0).
3. Retention planning time over 5,000 tags (pure planner, synthetic inventory).
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiinfra_shared.io import atomic_write_json, atomic_write_text
from aiinfra_shared.procs.services import start_oci_registry

from regman.adapters.registry import RegistryClient
from regman.images import build_image, build_layer, push_image, random_layer
from regman.inventory import ManifestRecord, RepositoryInventory
from regman.replication import ReplicationRule, run_rule
from regman.retention import RetentionPolicy, RetentionRule, plan

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
IMAGES, BASE_MB, APP_KB = 8, 4, 512


def bench_replication() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="regman-bench-") as work:
        src_reg = start_oci_registry(Path(work) / "src")
        dst_reg = start_oci_registry(Path(work) / "dst")
        try:
            src, dst = RegistryClient(src_reg.url), RegistryClient(dst_reg.url)
            base = random_layer(BASE_MB * 1024 * 1024, "bench-base")
            logical = 0
            for i in range(IMAGES):
                image = build_image([base, random_layer(APP_KB * 1024, f"bench-app-{i}"),
                                     build_layer({"v": str(i).encode()})])
                logical += image.size
                push_image(src, "bench/app", f"v{i}", image)
            rule = ReplicationRule(name="bench", source="s", destination="d",
                                   repositories="bench/*")
            start = time.perf_counter()
            first = run_rule(src, dst, rule)
            elapsed = time.perf_counter() - start
            start = time.perf_counter()
            second = run_rule(src, dst, rule)
            again = time.perf_counter() - start
            assert not first.failures and not second.failures
            src.close()
            dst.close()
        finally:
            src_reg.stop()
            dst_reg.stop()
    return {
        "images": IMAGES, "logical_mb": round(logical / 1e6, 2),
        "uploaded_mb": round(first.bytes_uploaded / 1e6, 2),
        "seconds": round(elapsed, 3),
        "throughput_uploaded_mb_s": round(first.bytes_uploaded / 1e6 / elapsed, 1),
        "throughput_logical_mb_s": round(logical / 1e6 / elapsed, 1),
        "rereplication_bytes": second.bytes_uploaded,
        "rereplication_seconds": round(again, 3),
    }


def bench_retention_plan(tags: int = 5000) -> dict[str, float]:
    now = datetime.now(UTC)
    inventories = []
    per_repo = 500
    for r in range(tags // per_repo):
        repo = RepositoryInventory(f"apps/svc{r}")
        for i in range(per_repo):
            digest = f"sha256:{r:032x}{i:032x}"
            repo.manifests[digest] = ManifestRecord(
                repository=repo.repository, digest=digest,
                media_type="application/vnd.oci.image.manifest.v1+json",
                tags=[f"v{i}" if i % 50 else f"prod-{i}"],
                pushed=now - timedelta(hours=i), manifest_size=500,
                blobs={"sha256:base": 50_000_000, f"sha256:app{r}-{i}": 1_000_000})
        inventories.append(repo)
    policy = RetentionPolicy(grace_period_hours=24, rules=[RetentionRule(
        repositories="apps/*", keep_last=20, keep_tags=[r"v\d*0"], protect=["prod-*"])])
    start = time.perf_counter()
    result = plan(inventories, policy, now)
    elapsed = time.perf_counter() - start
    return {"tags": tags, "seconds": round(elapsed, 3), "deletions": len(result.deletions)}


def main() -> None:
    replication = bench_replication()
    retention = bench_retention_plan()
    results = {"machine": f"{platform.machine()} {platform.system()}, Python "
                          f"{sys.version.split()[0]}, loopback registries",
               "replication": replication, "retention_plan": retention}
    atomic_write_json(HERE / "results.json", results)
    table = "\n".join([
        "| benchmark | result |", "|---|---|",
        f"| replication, {replication['images']} images sharing a {BASE_MB} MB base "
        f"({replication['logical_mb']} MB logical, {replication['uploaded_mb']} MB uploaded) "
        f"| {replication['seconds']} s: {replication['throughput_uploaded_mb_s']} MB/s uploaded,"
        f" {replication['throughput_logical_mb_s']} MB/s logical |",
        f"| re-replication, same rule | {replication['rereplication_bytes']} bytes moved in "
        f"{replication['rereplication_seconds']} s |",
        f"| retention plan over {retention['tags']} tags | {retention['seconds']} s "
        f"({retention['deletions']} deletions planned) |",
    ])
    text = README.read_text()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        atomic_write_text(README, f"{head}{begin}\n{table}\n{end}{tail}")
    print(table)


if __name__ == "__main__":
    main()
