"""Benchmarks for regman: write benchmarks/results.json and the README table.

1. Replication throughput (MB/s) for N images sharing base layers, between two real
   distribution registries on loopback. Each of BENCH_RUNS rounds replicates into a fresh,
   empty destination registry (starting it is not timed).
   The same copy with blobs one at a time (`jobs=1`) and with `skopeo sync` (one process
   for the repository) into their own fresh registries, for the parallel speed-up.
2. Bytes moved when replicating again into the same destination (goal: 0), every round.
3. Retention planning time over 5,000 tags (pure planner, synthetic inventory),
   BENCH_PLAN_RUNS timed runs after one warm-up.

Statistics (median, 95% CI), results.json and the README table come from
`aiinfra_shared.bench`. Knobs: BENCH_RUNS (default 9), BENCH_PLAN_RUNS (default 25).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.services import start_oci_registry

from regman.adapters.registry import RegistryClient
from regman.images import build_image, build_layer, push_image, random_layer
from regman.inventory import ManifestRecord, RepositoryInventory
from regman.replication import ReplicationRule, run_rule
from regman.retention import RetentionPolicy, RetentionRule, plan

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
PLAN_RUNS = int(os.environ.get("BENCH_PLAN_RUNS", "25"))
IMAGES, BASE_MB, APP_KB = 8, 4, 512
TAGS = 5000


def bench_replication() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="regman-bench-") as work:
        src_reg = start_oci_registry(Path(work) / "src")
        try:
            src = RegistryClient(src_reg.url)
            base = random_layer(BASE_MB * 1024 * 1024, "bench-base")
            logical = 0
            for i in range(IMAGES):
                image = build_image([base, random_layer(APP_KB * 1024, f"bench-app-{i}"),
                                     build_layer({"v": str(i).encode()})])
                logical += image.size
                push_image(src, "bench/app", f"v{i}", image)
            rule = ReplicationRule(name="bench", source="s", destination="d",
                                   repositories="bench/*")
            firsts, agains, uploaded, again_bytes = [], [], [], []
            serial, skopeo_times = [], []
            skopeo = shutil.which("skopeo")
            for round_no in range(RUNS):
                serial_reg = start_oci_registry(Path(work) / f"serial{round_no}")
                try:
                    with RegistryClient(serial_reg.url) as one_at_a_time:
                        start = time.perf_counter()
                        assert not run_rule(src, one_at_a_time, rule, jobs=1).failures
                        serial.append(time.perf_counter() - start)
                finally:
                    serial_reg.stop()
                if skopeo:
                    skopeo_reg = start_oci_registry(Path(work) / f"skopeo{round_no}")
                    try:
                        start = time.perf_counter()
                        subprocess.run([skopeo, "sync", "--src", "docker", "--dest", "docker",
                                        "--src-tls-verify=false", "--dest-tls-verify=false",
                                        f"{src_reg.host}/bench/app", f"{skopeo_reg.host}/bench"],
                                       check=True, capture_output=True, timeout=300)
                        skopeo_times.append(time.perf_counter() - start)
                    finally:
                        skopeo_reg.stop()
                dst_reg = start_oci_registry(Path(work) / f"dst{round_no}")
                try:
                    dst = RegistryClient(dst_reg.url)
                    start = time.perf_counter()
                    first = run_rule(src, dst, rule)  # default: 4 blobs at a time
                    firsts.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    second = run_rule(src, dst, rule)
                    agains.append(time.perf_counter() - start)
                    assert not first.failures and not second.failures
                    uploaded.append(first.bytes_uploaded)
                    again_bytes.append(second.bytes_uploaded)
                    dst.close()
                finally:
                    dst_reg.stop()
            src.close()
        finally:
            src_reg.stop()
    return {
        "logical_bytes": logical, "uploaded_bytes": uploaded, "rereplication_bytes": again_bytes,
        "seconds": summarize(firsts),
        "uploaded_mb_s": summarize([b / 1e6 / t for b, t in zip(uploaded, firsts, strict=True)],
                                   unit="MB/s"),
        "logical_mb_s": summarize([logical / 1e6 / t for t in firsts], unit="MB/s"),
        "rereplication_seconds": summarize(agains),
        "serial_seconds": summarize(serial),
        "speedup": summarize([s / p for s, p in zip(serial, firsts, strict=True)], unit="x"),
        "skopeo_seconds": summarize(skopeo_times) if skopeo_times else None,
    }


def bench_retention_plan() -> tuple[Any, int]:
    now = datetime.now(UTC)
    inventories = []
    per_repo = 500
    for r in range(TAGS // per_repo):
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
    deletions = len(plan(inventories, policy, now).deletions)
    return (measure(lambda: plan(inventories, policy, now), runs=PLAN_RUNS, warmup=1),
            deletions)


def main() -> None:
    began = time.perf_counter()
    rep = bench_replication()
    retention, deletions = bench_retention_plan()
    logical_mb = rep["logical_bytes"] / 1e6
    uploaded_mb = max(rep["uploaded_bytes"]) / 1e6
    moved_again = max(rep["rereplication_bytes"])
    benchmarks = {
        "replication": {
            "images": IMAGES, "base_mb": BASE_MB, "logical_mb": round(logical_mb, 2),
            "uploaded_mb": round(uploaded_mb, 2), "seconds": rep["seconds"].as_dict(3),
            "throughput_uploaded": rep["uploaded_mb_s"].as_dict(2),
            "throughput_logical": rep["logical_mb_s"].as_dict(2),
            "serial_seconds": rep["serial_seconds"].as_dict(3),
            "parallel_speedup": rep["speedup"].as_dict(2),
            "skopeo_sync_seconds": (rep["skopeo_seconds"].as_dict(3)
                                    if rep["skopeo_seconds"] else None)},
        "rereplication": {
            "bytes_moved_per_round": rep["rereplication_bytes"], "goal_bytes": 0,
            "met": moved_again == 0, "seconds": rep["rereplication_seconds"].as_dict(3)},
        "retention_plan": {"tags": TAGS, "deletions": deletions,
                           "seconds": retention.as_dict(4)},
    }
    notes = (f"{RUNS} replication rounds; each replicates into a fresh loopback destination "
             f"registry. {PLAN_RUNS} retention-plan runs. Wall time of the run: "
             f"{time.perf_counter() - began:.0f} s.")
    write_results(HERE / "results.json", results_document("103-06", benchmarks, notes))
    rows = [
        [f"replication, {IMAGES} images sharing a {BASE_MB} MB base ({logical_mb:.2f} MB "
         f"logical, {uploaded_mb:.2f} MB uploaded): time", rep["seconds"].format(), "-", "-"],
        ["same, blobs one at a time (jobs=1): time", rep["serial_seconds"].format(), "-", "-"],
        ["parallel blob copy speed-up (jobs=1 time / jobs=4 time, per round)",
         rep["speedup"].format(), "-", "-"],
        ["same images with `skopeo sync`: time",
         rep["skopeo_seconds"].format() if rep["skopeo_seconds"] else "skopeo not installed",
         "-", "-"],
        ["replication throughput, uploaded bytes", rep["uploaded_mb_s"].format(), "-", "-"],
        ["replication throughput, logical bytes", rep["logical_mb_s"].format(), "-", "-"],
        ["re-replication, same rule: bytes moved (max over rounds)", f"{moved_again} bytes",
         "0 bytes", "yes" if moved_again == 0 else "**no**"],
        ["re-replication, same rule: time", rep["rereplication_seconds"].format(), "-", "-"],
        [f"retention plan over {TAGS} tags ({deletions} deletions planned)",
         retention.format(), "-", "-"],
    ]
    table = markdown_table(["benchmark", "result", "goal", "met"], rows)
    update_readme(README, table)
    print(table)


if __name__ == "__main__":
    main()
