"""Benchmarks for mlworkflows (writes benchmarks/results.json and the README table).

1. DagBag parse time of the whole DAG folder with 50 generated model configs
   (50 x 3 DAGs + the data DAG): BENCH_PARSE_RUNS timed parses after one warm-up
   (goal: median < 2 s).
2. End-to-end `dag.test()` time of the data + training pipeline on the bundled data,
   BENCH_PIPELINE_RUNS times (a fresh 400-row batch is dropped into incoming/ before each
   run, untimed).
Airflow runs on SQLite in a temp AIRFLOW_HOME; nothing outside the temp dir is touched.
Statistics (median, 95% CI), results.json and the README table come from
`aiinfra_shared.bench`. Knobs: BENCH_PARSE_RUNS (default 7), BENCH_PIPELINE_RUNS (default 5).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from aiinfra_shared.bench import (
    Stats,
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)

HERE = Path(__file__).resolve().parent
EXERCISE = HERE.parent
GENERATED = 50
PARSE_RUNS = int(os.environ.get("BENCH_PARSE_RUNS", "7"))
PIPELINE_RUNS = int(os.environ.get("BENCH_PIPELINE_RUNS", "5"))
GOAL_PARSE_S = 2.0
ROOT = Path(tempfile.mkdtemp(prefix="mlworkflows-bench-"))
CONFIGS = ROOT / "configs"

from mlworkflows import airflow_env  # noqa: E402

airflow_env.configure(ROOT / "airflow", EXERCISE / "dags", ROOT / "workspace")
os.environ["MLWORKFLOWS_CONFIGS_DIR"] = str(CONFIGS)


def generate_configs() -> None:
    CONFIGS.mkdir(parents=True)
    base = yaml.safe_load((EXERCISE / "configs" / "cancer_logreg.yaml").read_text())
    for i in range(GENERATED):
        (CONFIGS / f"gen_{i:03d}.yaml").write_text(yaml.safe_dump({**base, "name": f"gen_{i:03d}"}))


def bench_parse() -> tuple[Stats, int]:
    dags, errors = airflow_env.load_dags(EXERCISE / "dags")  # imports airflow, the providers
    assert not errors, errors

    def parse() -> None:
        _, errors = airflow_env.load_dags(EXERCISE / "dags")
        assert not errors, errors

    return measure(parse, runs=PARSE_RUNS, warmup=0), len(dags)


def bench_pipeline() -> dict[str, Stats]:
    from mlworkflows import data
    from mlworkflows.workspace import Workspace

    airflow_env.init_db()
    ws = Workspace(ROOT / "workspace").ensure()
    dags, _ = airflow_env.load_dags(EXERCISE / "dags")
    data_s, train_s, total_s = [], [], []
    for i in range(PIPELINE_RUNS):
        data.write_csv(data.make_batch(rows=400), ws.incoming / f"bench-{i}.csv")
        start = time.perf_counter()
        data_run = airflow_env.run_dag(dags["mlw_data"])
        mid = time.perf_counter()
        train_run = airflow_env.run_dag(dags["mlw_train_gen_000"])
        end = time.perf_counter()
        assert data_run.ok and train_run.ok, (data_run.tasks, train_run.tasks)
        data_s.append(mid - start)
        train_s.append(end - mid)
        total_s.append(end - start)
        print(f"pipeline run {i + 1}: {end - start:.1f} s", flush=True)
    return {"data_dag": summarize(data_s), "training_dag": summarize(train_s),
            "end_to_end": summarize(total_s)}


def main() -> None:
    began = time.perf_counter()
    generate_configs()
    try:
        parse, dag_count = bench_parse()
        pipeline = bench_pipeline()
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    met = parse.median < GOAL_PARSE_S
    benchmarks: dict[str, Any] = {
        "dagbag_parse": {"generated_configs": GENERATED, "dags": dag_count,
                         **parse.as_dict(3), "goal": f"< {GOAL_PARSE_S:g} s", "met": met},
        **{f"dag_test_{name}": stats.as_dict(2) for name, stats in pipeline.items()},
    }
    notes = (f"{PARSE_RUNS} DagBag parses after one warm-up, {PIPELINE_RUNS} data + training "
             "pipeline runs (dag.test() on SQLite). Wall time of the run: "
             f"{time.perf_counter() - began:.0f} s.")
    write_results(HERE / "results.json", results_document("105-04", benchmarks, notes))
    rows = [
        [f"DagBag parse, {dag_count} DAGs ({GENERATED} generated configs)", parse.format(),
         f"< {GOAL_PARSE_S:g} s", "yes" if met else "**no**"],
        ["`dag.test()` data DAG", pipeline["data_dag"].format(), "-", "-"],
        ["`dag.test()` training DAG (3 mapped trials)", pipeline["training_dag"].format(),
         "-", "-"],
        ["data + training end to end", pipeline["end_to_end"].format(), "-", "-"],
    ]
    table = markdown_table(["benchmark", "result", "goal", "met"], rows)
    update_readme(EXERCISE / "README.md", table)
    print(table)


if __name__ == "__main__":
    main()
