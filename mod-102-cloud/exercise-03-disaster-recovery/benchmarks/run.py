"""Benchmarks for drkit: write benchmarks/results.json and the README table.

1. RTO of an automated failover versus a restore of the same database (~200 MB, pgbench
   scale 14) from the repository (fetch, checksum, decrypt, decompress, extract, replay,
   start), interleaved A-B-B-A (`compare_abba`): ratio = restore RTO / failover RTO
   (goal >= 3x). Every failover is followed by a pg_rewind failback, so the next round
   fails over in the other direction on the same data.
2. RPO (and RTO) per drill scenario: one run of each built-in scenario on a small stack.
3. Commit latency p50/p95 with synchronous versus asynchronous replication: single-row
   commits on the same primary+standby, the mode switched by ALTER SYSTEM between blocks,
   blocks interleaved A-B-B-A.

Knobs: BENCH_SCALE (pgbench scale, default 14), BENCH_ROUNDS (default 3),
BENCH_COMMITS (per block, default 300).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs import free_port

from drkit.adapters import pgtools
from drkit.adapters import postgres as pg
from drkit.archiver import wait_archived
from drkit.backup import take_backup
from drkit.demo import builtin_names, builtin_scenario
from drkit.drills import run_drill
from drkit.failover import failback, failover
from drkit.localstack import build_local_stack
from drkit.restore import restore
from drkit.restore_plan import RestoreTarget

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
SCALE = int(os.environ.get("BENCH_SCALE", "14"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
COMMITS = int(os.environ.get("BENCH_COMMITS", "300"))


def db_size(dsn: str) -> int:
    return int(pg.scalar(dsn, "SELECT pg_database_size('postgres')"))


METRICS_ROWS = int(os.environ.get("BENCH_METRICS_ROWS", "1600000"))


def load(dataset: str, dsn: str, host: str, port: int) -> None:
    """pgbench tables (blank-padded filler: compresses ~18x) or an MLflow-like metrics table
    (uuids, keys, random floats: compresses ~2-3x)."""
    if dataset == "pgbench":
        subprocess.run([pgtools.tool("pgbench"), "-i", "-q", "-s", str(SCALE), "-h", host,
                        "-p", str(port), "-U", "postgres", "postgres"],
                       check=True, capture_output=True, timeout=900)
        return
    with pg.connect(dsn, statement_timeout_ms=900_000) as conn:
        conn.execute("CREATE TABLE metrics (run_uuid text, key text, value double precision,"
                     " step int, ts bigint, PRIMARY KEY (run_uuid, key, step))")
        conn.execute("INSERT INTO metrics SELECT md5((g / 1000)::text), 'metric_' || (g %% 7), "
                     "random(), g %% 1000, 1700000000000 + g FROM generate_series(1, %s) g",
                     (METRICS_ROWS,))
        conn.execute("CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, "
                     "mtime timestamp)")


def bench_rto(dataset: str) -> dict[str, Any]:
    local = build_local_stack(mode="async")
    stack = local.stack
    try:
        endpoint = stack.primary.endpoint
        load(dataset, endpoint.dsn, endpoint.host, endpoint.port)
        size = db_size(endpoint.dsn)
        entry = take_backup(endpoint.dsn, stack.repository, stack.recipients, timeout=900)
        assert wait_archived(stack.spool, stack.repository, stack.recipients, entry.wal_stop, 60)
        restores = 0

        def pitr() -> float:
            nonlocal restores
            restores += 1
            target = stack.restore_root / f"bench-{restores}"
            started = time.monotonic()
            result = restore(stack.repository, RestoreTarget("backup"), target, free_port(),
                             stack.identity, timeout=900)
            with pg.connect(result.server.dsn) as conn:
                conn.execute("CREATE TABLE rto_probe (i int)")  # first write: service back
            elapsed = time.monotonic() - started
            result.server.stop()
            shutil.rmtree(target, ignore_errors=True)
            shutil.rmtree(target.with_name(target.name + ".drkit"), ignore_errors=True)
            return elapsed

        def fail_over() -> float:
            old, new = stack.primary, stack.standby
            assert new is not None
            started = time.monotonic()
            old.crash()
            failover(old, new, stack.pointer, mode="async", detect_timeout=60)
            with pg.connect(new.endpoint.dsn) as conn:
                conn.execute("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
                             "VALUES (1, 1, 1, 0, now())")
            elapsed = time.monotonic() - started
            failback(old, new, mode="async", timeout=600)  # not timed: restores topology
            stack.primary, stack.standby = new, old
            return elapsed

        comparison = compare_abba(pitr, fail_over, rounds=ROUNDS)
        return {"dataset": dataset, "database_bytes": size,
                "backup_stored_bytes": entry.stored_size,
                "pitr_restore_rto": comparison.a.as_dict(),
                "failover_rto": comparison.b.as_dict(),
                "ratio_restore_over_failover": comparison.speedup.as_dict(), "goal_ratio": 3.0}
    finally:
        local.close()


def bench_drills() -> dict[str, Any]:
    local = build_local_stack(mode="sync")
    out: dict[str, Any] = {}
    try:
        order = [n for n in builtin_names() if n not in ("kill-primary", "region-outage")]
        for name in [*order, "kill-primary", "region-outage"]:  # outage last: it stops moto
            result = run_drill(local.stack, builtin_scenario(name))
            out[name] = {"rto_s": result.rto_s, "rpo_s": result.rpo_s,
                         "detection_s": result.detection_s, "rows_lost": result.rows_lost,
                         "rto_target_s": result.rto_target_s,
                         "rpo_target_s": result.rpo_target_s, "passed": result.passed,
                         "error": result.error}
    finally:
        local.close()
    return out


def bench_commit_latency() -> dict[str, Any]:
    local = build_local_stack(mode="sync")
    try:
        dsn = local.stack.primary.endpoint.dsn
        assert local.stack.standby is not None
        standby = local.stack.standby.name
        with pg.connect(dsn) as conn:
            conn.execute("CREATE TABLE commits (id bigserial PRIMARY KEY, at timestamptz "
                         "DEFAULT now())")
        samples: dict[str, list[float]] = {"sync": [], "async": []}
        block_p50: dict[str, list[float]] = {"sync": [], "async": []}

        def block(mode: str) -> float:
            with pg.connect(dsn) as conn:
                conn.execute("ALTER SYSTEM SET synchronous_standby_names = "
                             + (f"'{standby}'" if mode == "sync" else "''"))
                conn.execute("SELECT pg_reload_conf()")
                time.sleep(0.3)
                times = []
                for _ in range(COMMITS):
                    started = time.perf_counter()
                    conn.execute("INSERT INTO commits DEFAULT VALUES")
                    times.append((time.perf_counter() - started) * 1000)
            samples[mode] += times
            block_p50[mode].append(statistics.median(times))
            return statistics.median(times) / 1000

        comparison = compare_abba(lambda: block("sync"), lambda: block("async"), rounds=ROUNDS)

        def p95(values: list[float]) -> float:
            return sorted(values)[int(0.95 * (len(values) - 1))]

        # p50/p95 over every commit; the CI is over the per-block medians (summarize's
        # order-statistics interval needs 2**n as a float: n must stay below ~1000).
        return {mode: {"p50_ms": round(statistics.median(vals), 4),
                       "p95_ms": round(p95(vals), 4), "commits": len(vals),
                       "block_p50_ms": summarize(block_p50[mode], unit="ms").as_dict(4)}
                for mode, vals in samples.items()} | {
            "sync_over_async_p50": comparison.speedup.as_dict()}
    finally:
        local.close()


def main() -> None:
    datasets = os.environ.get("BENCH_DATASETS", "pgbench,metrics").split(",")
    rtos = {name: bench_rto(name) for name in datasets}
    drills = bench_drills()
    latency = bench_commit_latency()
    sizes = ", ".join(f"{n} {r['database_bytes'] / 1e6:.0f} MB -> "
                      f"{r['backup_stored_bytes'] / 1e6:.0f} MB stored" for n, r in rtos.items())
    notes = (f"Databases: {sizes}. {ROUNDS} A-B-B-A rounds per dataset; drills one run each; "
             "loopback, fsync=off (shared launcher), 2 shared cores.")
    write_results(HERE / "results.json", results_document("102-03", {
        **{f"rto_failover_vs_restore_{n}": r for n, r in rtos.items()}, "drills": drills,
        "commit_latency": latency}, notes=notes))
    rows: list[list[object]] = []
    for name, rto in rtos.items():
        ratio = rto["ratio_restore_over_failover"]
        rows += [
            [f"{name}: RTO of a restore (fetch, decrypt, replay, first write)",
             summarize(rto["pitr_restore_rto"]["samples"]).format(), "-"],
            [f"{name}: RTO of an automated failover (kill to first write)",
             summarize(rto["failover_rto"]["samples"]).format(), "-"],
            [f"{name}: ratio restore / failover", summarize(ratio["samples"], unit="x").format(),
             ">= 3x " + ("met" if ratio["median"] >= 3 else "MISSED")],
        ]
    for name, d in drills.items():
        rows.append([f"drill {name}: RTO / RPO (s)",
                     f"{d['rto_s'] if d['rto_s'] is None else round(d['rto_s'], 2)} / "
                     f"{d['rpo_s'] if d['rpo_s'] is None else round(d['rpo_s'], 2)}",
                     f"<= {d['rto_target_s']:g} / <= {d['rpo_target_s']:g} "
                     + ("met" if d["passed"] else "MISSED")])
    for mode in ("sync", "async"):
        rows.append([f"commit latency {mode}: p50 / p95", f"{latency[mode]['p50_ms']:.3f} / "
                     f"{latency[mode]['p95_ms']:.3f} ms ({latency[mode]['commits']} commits)",
                     "-"])
    table = markdown_table(["benchmark", "result (median, 95% CI)", "goal"], rows)
    update_readme(README, table + f"\n\n{notes}")
    print(table)


if __name__ == "__main__":
    main()
