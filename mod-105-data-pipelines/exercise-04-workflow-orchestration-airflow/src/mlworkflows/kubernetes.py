"""The KubernetesPodOperator variant of a training trial (cluster execution on GPU nodes).

The pod runs `mlworkflows train-trial` (the same code the local PythonOperator path runs) with
the workspace on a shared volume, and hands its result back through the XCom sidecar. The pod
mounts that volume at the workers' own `MLWORKFLOWS_HOME` (`Settings.home`, one setting for
both sides), so every path in the pod's arguments and in its result opens unchanged on a
worker: no translation between two mount points. Tests render the pod spec, validate it
against the Kubernetes OpenAPI schemas and run its command as a subprocess.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client import models as k8s

from mlworkflows.config import Settings
from mlworkflows.model_config import ModelConfig, slug
from mlworkflows.workspace import Workspace

CONFIG_MOUNT = "/configs"
GPU_RESOURCE = "nvidia.com/gpu"


def trial_arguments(config: ModelConfig, index: int, params: dict[str, Any],
                    run_dir: str) -> list[str]:
    return ["train-trial", "--config", f"{CONFIG_MOUNT}/{config.name}.yaml",
            "--trial", str(index), "--params", json.dumps(params, sort_keys=True),
            "--run-dir", run_dir, "--xcom"]


def pod_settings(config: ModelConfig, settings: Settings) -> dict[str, Any]:
    """KubernetesPodOperator keyword arguments shared by every trial of `config`.

    The workspace volume is mounted at `settings.home` as the workers see it.
    """
    # BEGIN SOLUTION: operator kwargs: image, resources, GPU limit + toleration, volumes, XCom
    workspace = str(settings.resolved_home())
    res = config.resources
    limits = {"cpu": res.cpu, "memory": res.memory}
    tolerations = []
    if res.gpus:
        limits[GPU_RESOURCE] = str(res.gpus)
        tolerations.append(k8s.V1Toleration(key=GPU_RESOURCE, operator="Exists",
                                            effect="NoSchedule"))
    return {
        "namespace": res.namespace,
        "image": res.image,
        "cmds": ["mlworkflows"],
        "name": f"train-{slug(config.name)}",
        "labels": {"app.kubernetes.io/name": "mlworkflows", "mlworkflows/model": slug(config.name)},
        "container_resources": k8s.V1ResourceRequirements(
            requests={"cpu": res.cpu, "memory": res.memory}, limits=limits),
        "node_selector": dict(res.node_selector),
        "tolerations": tolerations,
        "env_vars": [k8s.V1EnvVar(name="MLWORKFLOWS_HOME", value=workspace)],
        "volumes": [
            k8s.V1Volume(name="workspace", persistent_volume_claim=k8s
                         .V1PersistentVolumeClaimVolumeSource(claim_name="mlworkflows-workspace")),
            k8s.V1Volume(name="configs", config_map=k8s.V1ConfigMapVolumeSource(
                name="mlworkflows-model-configs")),
        ],
        "volume_mounts": [
            k8s.V1VolumeMount(name="workspace", mount_path=workspace),
            k8s.V1VolumeMount(name="configs", mount_path=CONFIG_MOUNT, read_only=True),
        ],
        "security_context": k8s.V1PodSecurityContext(run_as_non_root=True, run_as_user=10001),
        "do_xcom_push": True,
        "get_logs": True,
        "on_finish_action": "delete_succeeded_pod",
        "startup_timeout_seconds": 600,
    }
    # END SOLUTION


def render_pod(config: ModelConfig, index: int = 0, params: dict[str, Any] | None = None,
               run_dir: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """The pod manifest the operator would submit for one trial, as a plain dict."""
    settings = settings or Settings.load()
    if run_dir is None:
        run_dir = str(Workspace(settings.resolved_home()).run_dir(config.training_dag_id,
                                                                   "example"))
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import ApiClient

    chosen = params if params is not None else config.trials[index]
    operator = KubernetesPodOperator(
        task_id=f"train_trial_{index}",
        arguments=trial_arguments(config, index, chosen, run_dir),
        **pod_settings(config, settings),
    )
    pod = operator.build_pod_request_obj(context=None, dry_run=True)  # no kubeconfig needed
    manifest: dict[str, Any] = ApiClient().sanitize_for_serialization(pod)
    return manifest
