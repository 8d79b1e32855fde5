"""Benchmarks for mlworkflows (writes benchmarks/results.json and the README table).

1. DagBag parse time of the whole DAG folder with 50 generated model configs
   (50 x 3 DAGs + the data DAG), measured cold: each of BENCH_PARSE_RUNS samples is a new
   Python process. In it, Airflow's DagBag module is imported first (the dag-processor's
   parsing process already has Airflow loaded), then the timed parse imports the DAG files
   and everything they import (mlworkflows, pydantic models, the k8s client...) for the first
   time (goal: median < 2 s). The whole new process (interpreter start, `import airflow`,
   parse, exit) is reported too, as is the warm re-parse in one process (what a repeated
   parse costs once the modules are cached).
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


_COLD_CHILD = """
import sys, time
from mlworkflows import airflow_env
from airflow.dag_processing.dagbag import DagBag  # noqa: F401 (loaded in the dag-processor)
start = time.perf_counter()
dags, errors = airflow_env.load_dags(airflow_env.Path(sys.argv[1]))
assert not errors, errors
print(time.perf_counter() - start, len(dags))
"""


def bench_parse_cold() -> tuple[Stats, Stats]:
    """(parse of the DAG files in a new process, the whole new process) per sample."""
    import subprocess
    import sys

    parse_s, process_s = [], []
    for _ in range(PARSE_RUNS):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _COLD_CHILD, str(EXERCISE / "dags")],
                             capture_output=True, text=True, check=True, env=os.environ)
        process_s.append(time.perf_counter() - start)
        parse_s.append(float(out.stdout.split()[-2]))
    return summarize(parse_s), summarize(process_s)


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
        cold, cold_process = bench_parse_cold()
        parse, dag_count = bench_parse()
        pipeline = bench_pipeline()
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    met = cold.median < GOAL_PARSE_S
    benchmarks: dict[str, Any] = {
        "dagbag_parse_cold": {"generated_configs": GENERATED, "dags": dag_count,
                              **cold.as_dict(3), "goal": f"< {GOAL_PARSE_S:g} s", "met": met},
        "new_process_import_and_parse": {**cold_process.as_dict(3)},
        "dagbag_parse_warm": {"generated_configs": GENERATED, "dags": dag_count,
                              **parse.as_dict(3)},
        **{f"dag_test_{name}": stats.as_dict(2) for name, stats in pipeline.items()},
    }
    notes = (f"{PARSE_RUNS} cold DagBag parses (each in a new process), {PARSE_RUNS} warm "
             f"parses in one process after one warm-up, {PIPELINE_RUNS} data + training "
             "pipeline runs (dag.test() on SQLite). Wall time of the run: "
             f"{time.perf_counter() - began:.0f} s.")
    write_results(HERE / "results.json", results_document("105-04", benchmarks, notes))
    rows = [
        [f"DagBag parse, cold (new process), {dag_count} DAGs ({GENERATED} generated configs)",
         cold.format(), f"< {GOAL_PARSE_S:g} s", "yes" if met else "**no**"],
        ["new process: interpreter + `import airflow` + parse", cold_process.format(), "-", "-"],
        ["DagBag parse, warm (modules cached)", parse.format(), "-", "-"],
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
