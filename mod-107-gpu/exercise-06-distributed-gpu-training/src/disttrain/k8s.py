"""Kubernetes manifests: a Kubeflow PyTorchJob (elastic) and a KubeRay RayJob.

The PyTorchJob runs `disttrain` under torchrun on every pod, with an `elasticPolicy`
(c10d rendezvous, min/max replicas, max restarts), NCCL settings, `/dev/shm` as a memory
emptyDir (NCCL and DataLoader workers use shared memory; the container default is 64 MiB),
a PVC for checkpoints, GPU requests and the GPU taint's toleration. Core kinds are validated
with kubernetes-validate; the CRs with the JSON Schemas in `schemas/`, transcribed from the
pinned upstream CRDs (each with a negative example in the tests).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema
import yaml

KUBE_VERSION = "1.31.0"
SCHEMAS = {("kubeflow.org/v1", "PyTorchJob"): "pytorchjob-v1",
           ("ray.io/v1", "RayJob"): "rayjob-v1"}


@dataclass(frozen=True)
class JobSpec:
    name: str = "disttrain"
    namespace: str = "training"
    image: str = "disttrain:dev"
    nodes_min: int = 1
    nodes_max: int = 4
    gpus_per_node: int = 8
    max_restarts: int = 3
    checkpoint_size: str = "50Gi"
    storage_class: str | None = None
    shm_size: str = "16Gi"
    config_file: str = "/etc/disttrain/train.yaml"


NCCL_ENV = {"NCCL_DEBUG": "WARN", "NCCL_SOCKET_IFNAME": "eth0", "NCCL_IB_DISABLE": "0",
            "NCCL_ASYNC_ERROR_HANDLING": "1", "TORCH_NCCL_ASYNC_ERROR_HANDLING": "1"}


def _pod_template(spec: JobSpec, command: list[str], gpus: int) -> dict[str, Any]:
    resources_: dict[str, Any] = {"requests": {"cpu": "8", "memory": "64Gi"},
                                  "limits": {"memory": "64Gi"}}
    if gpus:
        resources_["requests"]["nvidia.com/gpu"] = str(gpus)
        resources_["limits"]["nvidia.com/gpu"] = str(gpus)
    return {
        "metadata": {"labels": {"app.kubernetes.io/name": spec.name}},
        "spec": {
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                             "effect": "NoSchedule"}],
            "containers": [{
                "name": "pytorch",
                "image": spec.image,
                "command": command,
                "env": [{"name": k, "value": v} for k, v in NCCL_ENV.items()],
                "resources": resources_,
                "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"},  # noqa: S108
                                 {"name": "checkpoints", "mountPath": "/checkpoints"},
                                 {"name": "config", "mountPath": "/etc/disttrain"}],
            }],
            "volumes": [
                {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": spec.shm_size}},
                {"name": "checkpoints",
                 "persistentVolumeClaim": {"claimName": f"{spec.name}-checkpoints"}},
                {"name": "config", "configMap": {"name": f"{spec.name}-config"}},
            ],
        },
    }


def pytorchjob(spec: JobSpec) -> dict[str, Any]:
    """An elastic PyTorchJob: Worker replicas between nodes_min and nodes_max."""
    # BEGIN SOLUTION
    command = ["disttrain", "train", "--config", spec.config_file,
               "--checkpoint-dir", "/checkpoints"]
    return {
        "apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
        "metadata": {"name": spec.name, "namespace": spec.namespace},
        "spec": {
            "nprocPerNode": str(spec.gpus_per_node),
            "elasticPolicy": {"rdzvBackend": "c10d", "minReplicas": spec.nodes_min,
                              "maxReplicas": spec.nodes_max, "maxRestarts": spec.max_restarts,
                              "nProcPerNode": spec.gpus_per_node},
            "pytorchReplicaSpecs": {"Worker": {
                "replicas": spec.nodes_max, "restartPolicy": "OnFailure",
                "template": _pod_template(spec, command, spec.gpus_per_node)}},
            "runPolicy": {"cleanPodPolicy": "None", "backoffLimit": spec.max_restarts},
        },
    }
    # END SOLUTION


def rayjob(spec: JobSpec, ray_version: str = "2.58.0") -> dict[str, Any]:
    """A RayJob: a head without GPUs, one worker group of GPU nodes, our trainer as entrypoint."""
    head = _pod_template(spec, ["ray", "start", "--head", "--block"], 0)
    worker = _pod_template(spec, ["ray", "start", "--block"], spec.gpus_per_node)
    for template in (head, worker):
        template["spec"]["containers"][0]["name"] = "ray"
        del template["spec"]["containers"][0]["command"]  # KubeRay builds `ray start` itself
    return {
        "apiVersion": "ray.io/v1", "kind": "RayJob",
        "metadata": {"name": f"{spec.name}-ray", "namespace": spec.namespace},
        "spec": {
            "entrypoint": (f"disttrain train --strategy ray --config {spec.config_file} "
                           f"--nproc {spec.nodes_max * spec.gpus_per_node}"),
            "shutdownAfterJobFinishes": True, "ttlSecondsAfterFinished": 600,
            "submissionMode": "K8sJobMode", "backoffLimit": spec.max_restarts,
            "rayClusterSpec": {
                "rayVersion": ray_version,
                "headGroupSpec": {"rayStartParams": {"num-gpus": "0"}, "template": head},
                "workerGroupSpecs": [{"groupName": "gpu", "replicas": spec.nodes_max,
                                      "minReplicas": spec.nodes_min,
                                      "maxReplicas": spec.nodes_max,
                                      "rayStartParams": {}, "template": worker}],
            },
        },
    }


def core_objects(spec: JobSpec, train_yaml: str) -> list[dict[str, Any]]:
    pvc: dict[str, Any] = {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{spec.name}-checkpoints", "namespace": spec.namespace},
        "spec": {"accessModes": ["ReadWriteMany"],
                 "resources": {"requests": {"storage": spec.checkpoint_size}}}}
    if spec.storage_class:
        pvc["spec"]["storageClassName"] = spec.storage_class
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": f"{spec.name}-config", "namespace": spec.namespace},
              "data": {"train.yaml": train_yaml}}
    return [pvc, config]


def render(spec: JobSpec, train_yaml: str) -> list[dict[str, Any]]:
    return [*core_objects(spec, train_yaml), pytorchjob(spec), rayjob(spec)]


@functools.cache
def schema(name: str) -> dict[str, Any]:
    text = resources.files("disttrain").joinpath("schemas", f"{name}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _pod_templates(doc: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    spec = doc.get("spec") or {}
    for role, replica in (spec.get("pytorchReplicaSpecs") or {}).items():
        if isinstance(replica, Mapping) and "template" in replica:
            yield f"pytorchReplicaSpecs.{role}.template", replica["template"]
    cluster = spec.get("rayClusterSpec") or {}
    head = cluster.get("headGroupSpec") or {}
    if "template" in head:
        yield "rayClusterSpec.headGroupSpec.template", head["template"]
    for i, group in enumerate(cluster.get("workerGroupSpecs") or []):
        if isinstance(group, Mapping) and "template" in group:
            yield f"rayClusterSpec.workerGroupSpecs[{i}].template", group["template"]


def validate(doc: Mapping[str, Any]) -> list[str]:
    """Errors of one manifest ([] when valid): CRs by our schemas, the rest by the API's."""
    import kubernetes_validate

    meta = doc.get("metadata") or {}
    where = f"{doc.get('kind')} {meta.get('name')}"
    key = (str(doc.get("apiVersion")), str(doc.get("kind")))
    errors: list[str] = []
    # BEGIN SOLUTION
    if key in SCHEMAS:
        validator = jsonschema.Draft202012Validator(schema(SCHEMAS[key]))
        for err in sorted(validator.iter_errors(dict(doc)), key=lambda e: list(e.path)):
            path = ".".join(str(p) for p in err.path)
            errors.append(f"{where}: {path or '<root>'}: {err.message}")
        for path, template in _pod_templates(doc):
            pod = {"apiVersion": "v1", "kind": "PodTemplate",
                   "metadata": {"name": "t"}, "template": dict(template)}
            errors += [e.replace("PodTemplate t", f"{where} {path}") for e in validate(pod)]
        return errors
    try:
        kubernetes_validate.validate(dict(doc), KUBE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        errors.append(f"{where}: {path or '<root>'}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError:
        errors.append(f"{where}: no schema for {key[0]} {key[1]}")
    # END SOLUTION
    return errors


def validate_all(docs: Iterable[Mapping[str, Any]]) -> list[str]:
    return [e for doc in docs for e in validate(doc)]


def dump(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)
