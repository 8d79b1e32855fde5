"""Validate rendered manifests: core kinds with kubernetes-validate (strict), the CRs with the
JSON Schemas in `schemas/` (transcribed from the pinned upstream CRDs) plus the CRDs' CEL
rules, and mig-parted layouts against the per-model profile table."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from gpufleet.profiles import MODELS

KUBE_VERSION = "1.31.0"
SCHEMAS = {
    ("kueue.x-k8s.io/v1beta1", "ClusterQueue"): "clusterqueue-v1beta1",
    ("kueue.x-k8s.io/v1beta1", "LocalQueue"): "localqueue-v1beta1",
    ("kueue.x-k8s.io/v1beta1", "ResourceFlavor"): "resourceflavor-v1beta1",
    ("nvidia.com/v1", "ClusterPolicy"): "clusterpolicy-v1",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-v1",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-v1",
}


@functools.cache
def schema(name: str) -> dict[str, Any]:
    text = resources.files("gpufleet").joinpath("schemas", f"{name}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _where(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{doc.get('kind')} {ns}{meta.get('name')}"


def cluster_queue_rules(doc: Mapping[str, Any]) -> list[str]:
    """The ClusterQueue CRD's CEL rules (kueue v0.9 x-kubernetes-validations) we rely on."""
    # BEGIN SOLUTION
    spec = doc.get("spec") or {}
    errors = []
    groups = spec.get("resourceGroups") or []
    if not spec.get("cohort"):
        for group in groups:
            for flavor in group.get("flavors") or []:
                for res in flavor.get("resources") or []:
                    for limit in ("borrowingLimit", "lendingLimit"):
                        if res.get(limit) is not None:
                            errors.append(f"spec.resourceGroups.flavors[{flavor.get('name')}]."
                                          f"{limit}: must be nil when cohort is empty")
    flavors = sum(len(g.get("flavors") or []) for g in groups)
    if flavors > 16:
        errors.append(f"spec.resourceGroups: at most 16 flavors in all (got {flavors})")
    for group in groups:
        covered = list(group.get("coveredResources") or [])
        for flavor in group.get("flavors") or []:
            names = [r.get("name") for r in flavor.get("resources") or []]
            if names != covered:
                errors.append(f"spec.resourceGroups.flavors[{flavor.get('name')}].resources: "
                              f"must match coveredResources {covered}")
    # END SOLUTION
    return errors


def mig_layout_errors(config_yaml: str, models: Mapping[str, str]) -> list[str]:
    """Check each mig-parted config (`mig-configs.<name>`) against the model its pool runs.

    `models` maps config name -> GPU model (configs without a model are skipped)."""
    # BEGIN SOLUTION
    errors = []
    parsed = yaml.safe_load(config_yaml) or {}
    for name, entries in (parsed.get("mig-configs") or {}).items():
        model = models.get(name)
        if model is None:
            continue
        spec = MODELS[model]
        for entry in entries:
            if not entry.get("mig-enabled"):
                continue
            layout = entry.get("mig-devices") or {}
            unknown = [p for p in layout if p not in spec.mig_profiles]
            if unknown:
                errors.append(f"mig-configs.{name}: unknown profile {unknown[0]} for {model}")
                continue
            slices = sum(spec.mig_profiles[p] * int(n) for p, n in layout.items())
            if slices > spec.max_compute_slices:
                errors.append(f"mig-configs.{name}: {slices} compute slices, {model} has at "
                              f"most {spec.max_compute_slices}")
    # END SOLUTION
    return errors


def validate_document(doc: Mapping[str, Any]) -> list[str]:
    """Errors for one manifest (empty when valid)."""
    key = (str(doc.get("apiVersion")), str(doc.get("kind")))
    where = _where(doc)
    # BEGIN SOLUTION
    if key in SCHEMAS:
        validator = jsonschema.Draft202012Validator(schema(SCHEMAS[key]))
        errors = [f"{where}: {'.'.join(str(p) for p in e.absolute_path) or '<root>'}: "
                  f"{e.message}" for e in validator.iter_errors(doc)]
        if not errors and key[1] == "ClusterQueue":
            errors = [f"{where}: {e}" for e in cluster_queue_rules(doc)]
        return errors
    try:
        kubernetes_validate.validate(dict(doc), KUBE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return [f"{where}: {path or '<root>'}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{where}: no schema for {key[0]} {key[1]}"]
    return []
    # END SOLUTION


def validate_all(docs: Iterable[Mapping[str, Any]],
                 mig_models: Mapping[str, str] | None = None) -> list[str]:
    errors: list[str] = []
    for doc in docs:
        errors.extend(validate_document(doc))
        if doc.get("kind") == "ConfigMap" and "config.yaml" in (doc.get("data") or {}) \
                and "mig-configs" in doc["data"]["config.yaml"]:
            errors.extend(f"{_where(doc)}: {e}" for e in
                          mig_layout_errors(doc["data"]["config.yaml"], mig_models or {}))
    return errors
