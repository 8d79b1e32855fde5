"""`mlworkflows run`: the whole chain locally with `dag.test()` (no scheduler needed).

Assets would chain the DAGs under a scheduler; here the same order is run explicitly:
data -> training -> batch inference, each a real Airflow DAG run on a SQLite metadata DB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlworkflows import airflow_env, data
from mlworkflows.config import Settings
from mlworkflows.model_config import ModelConfig, load_model_configs
from mlworkflows.workspace import Workspace


@dataclass
class PipelineResult:
    runs: list[airflow_env.RunResult] = field(default_factory=list)
    model_path: str | None = None
    model_version: int | None = None
    predictions_path: str | None = None
    gate: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)


def stage_demo_data(ws: Workspace, rows: int = 400, seed: int = 0) -> list[Path]:
    """Drop a labelled file into incoming/ and an unlabelled scoring batch, if none exist."""
    ws.ensure()
    staged = []
    if not list(ws.incoming.glob("*.csv")):
        staged.append(data.write_csv(data.make_batch(rows=rows, seed=seed),
                                     ws.incoming / f"batch_{seed:04d}.csv"))
    if not ws.batches.exists():
        staged.append(data.write_csv(data.make_batch(rows=150, seed=seed + 1, labelled=False),
                                     ws.batches))
    return staged


def pick_config(settings: Settings, configs_dir: Path, name: str | None) -> ModelConfig:
    configs = load_model_configs(configs_dir)
    if name is None:
        return configs[0]
    for config in configs:
        if config.name == name:
            return config
    raise LookupError(f"no model config named {name!r} in {configs_dir} "
                      f"(have: {', '.join(c.name for c in configs)})")


def run_pipeline(settings: Settings, config: ModelConfig, dags_folder: Path,
                 step: Callable[[str], None] = lambda _s: None) -> PipelineResult:
    """Assumes `airflow_env.configure()` ran in this process before any airflow import."""
    # BEGIN SOLUTION: init the DB, stage data, parse DAGs, then data, training, inference runs
    ws = Workspace(settings.resolved_home())
    result = PipelineResult()
    step("initialising the Airflow metadata DB")
    airflow_env.init_db()
    stage_demo_data(ws)
    step("parsing DAGs")
    dags, errors = airflow_env.load_dags(dags_folder)
    if errors:
        first = next(iter(errors.items()))
        raise RuntimeError(f"DAG import error in {first[0]}: {first[1].strip().splitlines()[-1]}")
    step("data DAG: validate and publish")
    result.runs.append(airflow_env.run_dag(dags["mlw_data"]))
    if not result.ok:
        return result
    step(f"training DAG {config.training_dag_id}")
    train = airflow_env.run_dag(dags[config.training_dag_id], xcom_tasks=("quality_gate", "deploy"))
    result.runs.append(train)
    result.gate = train.xcoms.get("quality_gate")
    deployed = train.xcoms.get("deploy")
    if deployed:
        result.model_path, result.model_version = deployed["model_path"], deployed["version"]
    if not train.ok or not deployed:
        return result
    step(f"batch inference DAG {config.inference_dag_id}")
    scored = airflow_env.run_dag(dags[config.inference_dag_id], xcom_tasks=("score_batch",))
    result.runs.append(scored)
    if scored.xcoms.get("score_batch"):
        result.predictions_path = scored.xcoms["score_batch"]["predictions"]
    return result
    # END SOLUTION
