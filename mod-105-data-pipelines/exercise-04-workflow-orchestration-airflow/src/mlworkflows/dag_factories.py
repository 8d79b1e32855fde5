"""DAG factories: the data, training, batch-inference and monitoring DAGs.

Task bodies are thin: they resolve paths from the Workspace and call the pure modules
(validation, training, gate, registry, inference, drift). Assets connect the DAGs:

    mlw_data --(validated_data)--> mlw_train_<m> --(model_<m>)--> mlw_inference_<m>
    mlw_monitor_<m> --TriggerDagRunOperator(drift)--> mlw_train_<m>

mypy: TaskFlow calls return XComArg at DAG-build time while the functions are typed with the
runtime values they receive, so argument types are not checked in this module.
"""

# mypy: disable-error-code="arg-type"

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Asset, AssetWatcher, Param, get_current_context, task
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference
from airflow.sdk.exceptions import AirflowFailException

from mlworkflows.callbacks import on_deadline_missed, on_task_failure
from mlworkflows.config import Settings
from mlworkflows.model_config import ModelConfig, ModelConfigError
from mlworkflows.sensors import IncomingFileTrigger, matching_files
from mlworkflows.workspace import Workspace, partition_name, sha256_file

# pandas, scikit-learn, pandera and joblib are imported inside the task bodies: the
# dag-processor re-parses these files every few seconds, and heavy top-level imports are the
# usual reason DAG files hit `dagbag_import_timeout` (see `make bench` for the parse time).

START = datetime(2026, 1, 1)
DATA_DAG_ID = "mlw_data"
VALIDATED_DATA = Asset(name="mlworkflows_validated_data", uri="mlworkflows://data/validated")


def incoming_asset(ws: Workspace) -> Asset:
    """New data files; its watcher (run by the triggerer) queues a data-DAG run per file."""
    # BEGIN SOLUTION: an Asset with one AssetWatcher on the workspace's incoming/ folder
    return Asset(
        name="mlworkflows_incoming_data", uri="mlworkflows://data/incoming",
        watchers=[AssetWatcher(name="mlworkflows_new_data_file", trigger=IncomingFileTrigger(
            incoming=str(ws.incoming), arrived=str(ws.arrived), pattern="*.csv",
            poke_interval=5))],
    )
    # END SOLUTION


def _claimed_file(context: dict[str, Any], ws: Workspace) -> str | None:
    """The file named by the watcher event that triggered this run, if it is still there."""
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            payload = (event.extra or {}).get("payload") or {}
            path = payload.get("path") if isinstance(payload, dict) else None
            if path and Path(path).is_file():
                return str(path)
    return None


def model_asset(config: ModelConfig) -> Asset:
    return Asset(name=f"mlworkflows_model_{config.name}",
                 uri=f"mlworkflows://models/{config.name}/production")


def _default_args(config_owner: str = "ml-platform") -> dict[str, Any]:
    return {"owner": config_owner, "retries": 1, "retry_delay": timedelta(seconds=30),
            "on_failure_callback": on_task_failure}


def _deadline(settings: Settings) -> DeadlineAlert:
    # BEGIN SOLUTION: DeadlineAlert: DAGRUN_QUEUED_AT + deadline_minutes, calls on_deadline_missed
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=settings.deadline_minutes),
        callback=AsyncCallback(on_deadline_missed,
                               kwargs={"target_minutes": settings.deadline_minutes}),
    )
    # END SOLUTION


def _triggering_partition(context: dict[str, Any]) -> str | None:
    """The partition named by the newest validated-data asset event that triggered the run."""
    events = context.get("triggering_asset_events") or {}
    try:
        found = events[VALIDATED_DATA]
    except KeyError:
        return None
    for event in reversed(list(found)):
        partition = (event.extra or {}).get("partition")
        if partition:
            return str(partition)
    return None


def _run_ids() -> tuple[str, str]:
    context = get_current_context()
    return context["dag"].dag_id, context["run_id"]


# --------------------------------------------------------------------------- data DAG


def build_data_dag(settings: Settings) -> DAG:
    # BEGIN SOLUTION: on the incoming asset (watcher): pick, validate, publish or quarantine
    ws = Workspace(settings.resolved_home())
    with DAG(
        DATA_DAG_ID,
        description="Validate each new data file, publish it or quarantine it",
        # event-driven: a run per file the watcher claims, none (and no alert) without one
        schedule=[incoming_asset(ws)], start_date=START, catchup=False, max_active_runs=1,
        default_args=_default_args(), tags=["mlworkflows", "data"],
        deadline=_deadline(settings),
        doc_md="Bad data stops here: it is quarantined and the failure alert names the "
               "failing columns and rows. Good data becomes the `validated_data` asset.",
    ) as dag:

        @task
        def pick_file(**context: Any) -> str:
            """The file the watcher claimed for this run; for a manual or `dag.test()` run,
            the oldest claimed (arrived/) or else incoming file."""
            claimed = _claimed_file(context, ws)
            if claimed:
                return claimed
            files = (matching_files(str(ws.arrived / "*.csv"))
                     or matching_files(str(ws.incoming / "*.csv")))
            if not files:
                raise AirflowFailException(f"no data file in {ws.arrived} or {ws.incoming}")
            return files[0]

        @task
        def validate(path: str) -> dict[str, Any]:
            from mlworkflows.validation import validate_file

            report = validate_file(Path(path))
            return {**report.to_dict(), "summary": report.summary()}

        @task.branch
        def route(report: dict[str, Any]) -> str:
            return "publish" if report["ok"] else "quarantine"

        @task(outlets=[VALIDATED_DATA])
        def publish(path: str, report: dict[str, Any], **context: Any) -> dict[str, Any]:
            """Write the file as the partition of this run's logical date (never overwrite
            another run's data), then announce (partition, sha256) on the asset event."""
            from aiinfra_shared.io import atomic_write_bytes

            run = context["dag_run"]
            partition = partition_name(run.logical_date or run.run_after)
            target = ws.ensure().partition(partition)
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, Path(path).read_bytes())
            Path(path).unlink()
            lineage = {"partition": partition, "sha256": sha256_file(target)}
            context["outlet_events"][VALIDATED_DATA].extra = {
                "source": Path(path).name, "rows": report["rows"], **lineage}
            return {"path": str(target), **lineage}

        @task
        def quarantine(path: str, report: dict[str, Any]) -> None:
            import pandas as pd

            ws.ensure()
            source = Path(path)
            target = ws.quarantine / source.name
            if source.exists():
                source.replace(target)
            pd.Series(report).to_json(target.with_suffix(".report.json"), indent=2)
            # Failing (without retry) marks the run failed and fires on_failure_callback,
            # whose alert carries this message: the failing columns and rows.
            raise AirflowFailException(f"quarantined {target.name}: {report['summary']}")

        path = pick_file()
        report = validate(path)
        route(report) >> [publish(path, report), quarantine(path, report)]
    return dag
    # END SOLUTION


# --------------------------------------------------------------------------- training DAG


def build_training_dag(settings: Settings, config: ModelConfig) -> DAG:
    # BEGIN SOLUTION: on the data asset: features, mapped trials, best, gate, register, deploy
    ws = Workspace(settings.resolved_home())
    asset = model_asset(config)
    with DAG(
        config.training_dag_id,
        description=f"Train, gate and deploy {config.name} ({config.model_type})",
        schedule=[VALIDATED_DATA], start_date=START, catchup=False, max_active_runs=1,
        default_args=_default_args(config.owner), tags=["mlworkflows", "training", *config.tags],
        deadline=_deadline(settings),
        params={"trials": Param(None, type=["null", "array"],
                                description="override the config's hyperparameter trials"),
                "reason": Param("scheduled", type="string")},
        doc_md=f"Generated from `{Path(config.source_file or '').name}`.",
    ) as dag:

        @task
        def prepare_features(**context: Any) -> dict[str, Any]:
            """Features from the partition whose asset event triggered this run, else (manual
            or drift-triggered run) from the latest partition; returns its lineage too."""
            from mlworkflows import training

            partition = _triggering_partition(context) or ws.latest_partition()
            if partition is None:
                raise AirflowFailException(
                    f"no validated data under {ws.validated_root}: run {DATA_DAG_ID} first")
            source = ws.partition(partition)
            if not source.is_file():
                raise AirflowFailException(f"partition {partition} has no data at {source}")
            dag_id, run_id = _run_ids()
            out = ws.run_dir(dag_id, run_id)
            features = training.prepare_features(source, out, config.test_size, config.seed)
            return {**features, "run_dir": str(out), "data_path": str(source),
                    "data_partition": partition, "data_sha256": sha256_file(source)}

        @task
        def trial_specs(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            override = (params or {}).get("trials")
            trials = override if override else config.trials
            checked = ModelConfig.model_validate({**config.model_dump(), "trials": trials})
            return [{"index": i, "params": t} for i, t in enumerate(checked.trials)]

        if config.executor == "kubernetes":
            trials = _kubernetes_trials(settings, config, prepare_features(), trial_specs())
            features = trials.features
            results = trials.results
        else:
            features = prepare_features()

            @task(map_index_template="{{ trial_label }}")
            def train_trial(spec: dict[str, Any], features: dict[str, Any]) -> dict[str, Any]:
                from mlworkflows import training

                get_current_context()["trial_label"] = f"trial {spec['index']}: {spec['params']}"  # type: ignore[typeddict-unknown-key]
                return training.run_trial(config, spec["index"], spec["params"], features,
                                          Path(features["run_dir"]))

            results = train_trial.partial(features=features).expand(spec=trial_specs())

        @task
        def select_best(results: list[dict[str, Any]]) -> dict[str, Any]:
            from mlworkflows import training

            # index by length: iterating a lazy XCom sequence probes one past the end (404 log)
            collected = [results[i] for i in range(len(results))]
            return training.select_best(collected, config.primary_metric)

        @task
        def evaluate(best: dict[str, Any], features: dict[str, Any]) -> dict[str, Any]:
            """Re-score the candidate and the production model on the same holdout."""
            import joblib

            from mlworkflows import training
            from mlworkflows.registry import open_registry

            registry = open_registry(settings)
            candidate = training.evaluate_model(joblib.load(best["model_path"]),
                                                Path(features["test_path"]))
            production = None
            pointer = registry.production(config.name)
            if pointer is not None:
                model, _ = registry.load_production_model(config.name)
                production = training.evaluate_model(model, Path(features["test_path"]))
            return {"candidate": candidate, "production": production,
                    "production_version": pointer["version"] if pointer else None}

        @task
        def quality_gate(evaluation: dict[str, Any]) -> dict[str, Any]:
            from mlworkflows import gate as gate_mod

            decision = gate_mod.evaluate_gate(config, evaluation["candidate"],
                                              evaluation["production"])
            return decision.to_dict()

        @task.branch
        def route(decision: dict[str, Any]) -> str:
            return "register" if decision["passed"] else "skip_deploy"

        @task
        def register(best: dict[str, Any], decision: dict[str, Any],
                     features: dict[str, Any], params: dict[str, Any] | None = None) -> int:
            from mlworkflows.registry import open_registry

            dag_id, run_id = _run_ids()
            version = open_registry(settings).register(config.name, Path(best["model_path"]), {
                "metrics": decision["candidate"], "params": best["params"],
                "model_type": config.model_type, "run_id": run_id, "dag_id": dag_id,
                "reason": (params or {}).get("reason", "scheduled"),
                "data_partition": features["data_partition"],
                "data_sha256": features["data_sha256"]})
            shutil.copyfile(features["data_path"], version.path.parent / "reference.csv")
            return version.version

        @task(outlets=[asset])
        def deploy(version: int, **context: Any) -> dict[str, Any]:
            from mlworkflows.registry import open_registry

            pointer = open_registry(settings).deploy(config.name, version,
                                                        reason="passed quality gate")
            context["outlet_events"][asset].extra = {"version": version}
            return pointer

        @task
        def skip_deploy(decision: dict[str, Any]) -> str:
            reason = "; ".join(decision["reasons"])
            print(f"not deploying {config.name}: {reason}")
            return reason

        best = select_best(results)
        evaluation = evaluate(best, features)
        decision = quality_gate(evaluation)
        version = register(best, decision, features)
        route(decision) >> [version, skip_deploy(decision)]
        deploy(version)
    return dag
    # END SOLUTION


class _KubeTrials:
    def __init__(self, features: Any, results: Any) -> None:
        self.features = features
        self.results = results


def _kubernetes_trials(settings: Settings, config: ModelConfig, features: Any,
                       specs: Any) -> _KubeTrials:
    """Trials as pods on GPU nodes: one mapped KubernetesPodOperator task per trial."""
    # BEGIN SOLUTION: pod arguments per trial, then KubernetesPodOperator.partial().expand()
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    from mlworkflows.kubernetes import pod_settings, trial_arguments

    @task
    def pod_arguments(specs: list[dict[str, Any]], features: dict[str, Any]) -> list[list[str]]:
        # the pod mounts the workspace at this worker's MLWORKFLOWS_HOME: paths pass unchanged
        return [trial_arguments(config, s["index"], s["params"], features["run_dir"])
                for s in specs]

    results = KubernetesPodOperator.partial(
        task_id="train_trial", **pod_settings(config, settings),
    ).expand(arguments=pod_arguments(specs, features))
    return _KubeTrials(features, results.output)
    # END SOLUTION


# --------------------------------------------------------------------------- inference DAG


def build_inference_dag(settings: Settings, config: ModelConfig) -> DAG:
    # BEGIN SOLUTION: DAG scheduled on the model asset with one task: score_batch
    ws = Workspace(settings.resolved_home())
    with DAG(
        config.inference_dag_id,
        description=f"Score the current batch with the newly deployed {config.name}",
        schedule=[model_asset(config)], start_date=START, catchup=False, max_active_runs=1,
        default_args=_default_args(config.owner), tags=["mlworkflows", "inference"],
    ) as dag:

        @task
        def score_batch() -> dict[str, Any]:
            from mlworkflows import inference
            from mlworkflows.registry import open_registry

            latest = ws.latest_partition()
            batch = ws.batches if ws.batches.exists() or latest is None else ws.partition(latest)
            if not batch.exists():
                raise AirflowFailException(f"nothing to score: neither {ws.batches} nor a "
                                           f"partition under {ws.validated_root} exists")
            _, run_id = _run_ids()
            return inference.score_batch(open_registry(settings), config.name, batch,
                                         ws.predictions / config.name, run_id)

        score_batch()
    return dag
    # END SOLUTION


# --------------------------------------------------------------------------- monitoring DAG


def build_monitoring_dag(settings: Settings, config: ModelConfig) -> DAG:
    # BEGIN SOLUTION: daily: compute_drift, branch to TriggerDagRunOperator (retraining) or no_drift
    ws = Workspace(settings.resolved_home())
    with DAG(
        config.monitoring_dag_id,
        description=f"Drift of recent data vs the training reference of {config.name}",
        schedule="@daily", start_date=START, catchup=False, max_active_runs=1,
        default_args=_default_args(config.owner), tags=["mlworkflows", "monitoring"],
    ) as dag:

        @task
        def compute_drift() -> dict[str, Any]:
            import pandas as pd

            from mlworkflows import drift as drift_mod
            from mlworkflows.registry import open_registry

            pointer = open_registry(settings).production(config.name)
            if pointer is None:
                raise AirflowFailException(f"no production model for {config.name} yet")
            reference = Path(pointer["model_path"]).parent / "reference.csv"
            if not ws.batches.exists():
                raise AirflowFailException(f"no recent data at {ws.batches}")
            report = drift_mod.compute_drift(pd.read_csv(reference), pd.read_csv(ws.batches),
                                             settings.drift_threshold)
            return report.to_dict()

        @task.branch
        def route(report: dict[str, Any]) -> str:
            return "trigger_retraining" if report["drifted"] else "no_drift"

        retrain = TriggerDagRunOperator(
            task_id="trigger_retraining", trigger_dag_id=config.training_dag_id,
            conf={"reason": "drift",
                  "max_psi": "{{ ti.xcom_pull(task_ids='compute_drift')['max_psi'] }}"},
            wait_for_completion=False,
        )
        route(compute_drift()) >> [retrain, EmptyOperator(task_id="no_drift")]
    return dag
    # END SOLUTION


def build_model_dags(settings: Settings, configs: list[ModelConfig]) -> list[DAG]:
    # BEGIN SOLUTION: training, inference and monitoring DAGs for every config
    dags: list[DAG] = []
    for config in configs:
        dags += [build_training_dag(settings, config), build_inference_dag(settings, config),
                 build_monitoring_dag(settings, config)]
    return dags
    # END SOLUTION


class InvalidModelConfigs(DAG):
    """Placeholder for the invalid model configs of one DAG file: it never passes validation.

    The DagBag validates and bags every DAG of a file on its own and records a failure as an
    import error of that file. So the valid configs' DAGs still load, and the UI's import
    error names each invalid config file and field (and nothing else).
    """

    def __init__(self, errors: list[ModelConfigError]) -> None:
        super().__init__("mlw_invalid_model_configs", schedule=None, start_date=START,
                         description="invalid model configs (never scheduled)")
        self.config_errors = [str(e) for e in errors]

    def validate(self) -> None:
        raise ModelConfigError(f"{len(self.config_errors)} invalid model config(s): "
                               + " | ".join(self.config_errors))


def build_model_dags_isolated(settings: Settings, configs: list[ModelConfig],
                              errors: list[ModelConfigError]) -> list[DAG]:
    """The DAGs of every valid config, plus one placeholder that reports the invalid ones."""
    # BEGIN SOLUTION: good configs' DAGs; the errors go into one InvalidModelConfigs DAG
    dags = build_model_dags(settings, configs)
    if errors:
        dags.append(InvalidModelConfigs(errors))
    return dags
    # END SOLUTION
