"""Benchmarks for mlworkflows (writes benchmarks/results.json and the README table).

1. DagBag parse time of the whole DAG folder with 50 generated model configs
   (50 x 3 DAGs + the data DAG), median of 3 parses after one warm-up.
2. End-to-end `dag.test()` time of the data + training pipeline on the bundled data.
Airflow runs on SQLite in a temp AIRFLOW_HOME; nothing outside the temp dir is touched.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
EXERCISE = HERE.parent
GENERATED = 50
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


def bench_parse() -> dict[str, float | int]:
    airflow_env.load_dags(EXERCISE / "dags")  # warm-up: imports airflow and the providers
    times, count = [], 0
    for _ in range(3):
        start = time.perf_counter()
        dags, errors = airflow_env.load_dags(EXERCISE / "dags")
        times.append(time.perf_counter() - start)
        assert not errors, errors
        count = len(dags)
    return {"dags": count, "parse_s_median": round(statistics.median(times), 3),
            "parse_s_max": round(max(times), 3)}


def bench_pipeline() -> dict[str, float | str]:
    from mlworkflows import data
    from mlworkflows.workspace import Workspace

    airflow_env.init_db()
    ws = Workspace(ROOT / "workspace").ensure()
    data.write_csv(data.make_batch(rows=400), ws.incoming / "bench.csv")
    dags, _ = airflow_env.load_dags(EXERCISE / "dags")
    start = time.perf_counter()
    data_run = airflow_env.run_dag(dags["mlw_data"])
    mid = time.perf_counter()
    train_run = airflow_env.run_dag(dags["mlw_train_gen_000"])
    end = time.perf_counter()
    assert data_run.ok and train_run.ok, (data_run.tasks, train_run.tasks)
    return {"data_dag_test_s": round(mid - start, 2), "training_dag_test_s": round(end - mid, 2),
            "end_to_end_s": round(end - start, 2)}


def main() -> None:
    generate_configs()
    try:
        parse = bench_parse()
        pipeline = bench_pipeline()
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
        "generated_configs": GENERATED, "dagbag": parse, "pipeline": pipeline,
        "goal_parse_s": 2.0,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = "\n".join([
        "| metric | value |", "|---|---|",
        f"| DAGs parsed ({GENERATED} generated configs) | {parse['dags']} |",
        f"| DagBag parse, median of 3 | {parse['parse_s_median']} s (goal < 2 s) |",
        f"| DagBag parse, max | {parse['parse_s_max']} s |",
        f"| `dag.test()` data DAG | {pipeline['data_dag_test_s']} s |",
        f"| `dag.test()` training DAG (3 mapped trials) | {pipeline['training_dag_test_s']} s |",
        f"| data + training end to end | {pipeline['end_to_end_s']} s |",
        f"| 1-min load average during the run ({os.cpu_count()} CPUs) | "
        f"{results['machine']['load_avg_1m']} |",
    ])
    readme = EXERCISE / "README.md"
    text = readme.read_text()
    block = f"<!-- bench:start -->\n{table}\n<!-- bench:end -->"
    text = re.sub(r"<!-- bench:start -->.*<!-- bench:end -->", block, text, flags=re.S)
    readme.write_text(text)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
