"""Validate rendered manifests: core kinds with kubernetes-validate (strict), the CRs with the
JSON Schemas in `schemas/` (transcribed from the pinned upstream CRDs: kueue v0.9.1,
gpu-operator v24.9.2, prometheus-operator v0.78.2, volcano v1.12.0) plus the CRDs' CEL rules
and Kueue's webhook checks, and mig-parted layouts against the per-model profile table."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
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
    ("scheduling.volcano.sh/v1beta1", "Queue"): "queue-volcano-v1beta1",
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


def _quantity(value: Any) -> float:
    """A resource.Quantity as a number (the int-or-string forms gpufleet renders)."""
    text = str(value)
    suffixes = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in sorted(suffixes.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def cluster_queue_rules(doc: Mapping[str, Any]) -> list[str]:
    """The ClusterQueue rules of kueue v0.9.1 we rely on: the CRD's CEL rules
    (x-kubernetes-validations) and its webhook's checks (pkg/webhooks/clusterqueue_webhook.go)."""
    # BEGIN SOLUTION
    spec = doc.get("spec") or {}
    errors = []
    groups = spec.get("resourceGroups") or []
    # CEL: borrowingLimit must be nil when cohort is empty; the webhook adds lendingLimit
    if not spec.get("cohort"):
        for group in groups:
            for flavor in group.get("flavors") or []:
                for res in flavor.get("resources") or []:
                    for limit in ("borrowingLimit", "lendingLimit"):
                        if res.get(limit) is not None:
                            errors.append(f"spec.resourceGroups.flavors[{flavor.get('name')}]."
                                          f"{limit}: must be nil when cohort is empty")
    # CEL on spec.preemption
    preemption = spec.get("preemption") or {}
    borrow = preemption.get("borrowWithinCohort")
    if preemption.get("reclaimWithinCohort", "Never") == "Never" and borrow is not None \
            and borrow.get("policy", "Never") != "Never":
        errors.append("spec.preemption: reclaimWithinCohort=Never and "
                      "borrowWithinCohort.Policy!=Never")
    seen_resources: set[str] = set()
    seen_flavors: set[str] = set()
    for group in groups:
        covered = list(group.get("coveredResources") or [])
        for name in covered:  # webhook: a resource is covered by one group only
            if name in seen_resources:
                errors.append(f"spec.resourceGroups.coveredResources: duplicate {name}")
            seen_resources.add(name)
        for flavor in group.get("flavors") or []:
            where = f"spec.resourceGroups.flavors[{flavor.get('name')}]"
            resources = flavor.get("resources") or []
            if len(resources) != len(covered):  # CEL on resourceGroups[]
                errors.append(f"{where}: flavors must have the same number of resources as "
                              f"the coveredResources")
            if flavor.get("name") in seen_flavors:
                errors.append(f"{where}.name: duplicate")
            seen_flavors.add(str(flavor.get("name")))
            for index, res in enumerate(resources):
                if index < len(covered) and res.get("name") != covered[index]:
                    errors.append(f"{where}.resources[{index}].name: must match the name in "
                                  f"coveredResources")
                for field in ("nominalQuota", "borrowingLimit", "lendingLimit"):
                    if res.get(field) is not None and _quantity(res[field]) < 0:
                        errors.append(f"{where}.{field}: must be greater than or equal to 0")
                if res.get("lendingLimit") is not None and \
                        _quantity(res["lendingLimit"]) > _quantity(res.get("nominalQuota", 0)):
                    errors.append(f"{where}.lendingLimit: must be less than or equal to the "
                                  f"nominalQuota")
    # END SOLUTION
    return errors


EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def resource_flavor_rules(doc: Mapping[str, Any]) -> list[str]:
    """The ResourceFlavor CRD's CEL rules (kueue v0.9.1), with upstream's messages."""
    # BEGIN SOLUTION
    spec = doc.get("spec") or {}
    errors = []
    effects = "supported taint effect values: 'NoSchedule', 'PreferNoSchedule', 'NoExecute'"
    if any(t.get("effect") not in EFFECTS for t in spec.get("nodeTaints") or []):
        errors.append(f"spec.nodeTaints: {effects}")
    tolerations = spec.get("tolerations") or []
    checks: list[tuple[Callable[[Mapping[str, Any]], bool], str]] = [
        (lambda t: "key" not in t and t.get("operator") != "Exists",
         "operator must be Exists when 'key' is empty, which means 'match all values and "
         "all keys'"),
        (lambda t: "tolerationSeconds" in t and t.get("effect") != "NoExecute",
         "effect must be 'NoExecute' when 'tolerationSeconds' is set"),
        (lambda t: "operator" in t and t["operator"] not in ("Equal", "Exists"),
         "supported toleration values: 'Equal'(default), 'Exists'"),
        (lambda t: t.get("operator") == "Exists" and "value" in t,
         "a value must be empty when 'operator' is 'Exists'"),
        (lambda t: "effect" in t and t["effect"] not in EFFECTS, effects),
    ]
    for broken, message in checks:
        if any(broken(t) for t in tolerations):
            errors.append(f"spec.tolerations: {message}")
    if spec.get("topologyName") and not spec.get("nodeLabels"):
        errors.append("spec: at least one nodeLabel is required when topology is set")
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


CEL_RULES = {"ClusterQueue": cluster_queue_rules, "ResourceFlavor": resource_flavor_rules}


def validate_document(doc: Mapping[str, Any]) -> list[str]:
    """Errors for one manifest (empty when valid)."""
    key = (str(doc.get("apiVersion")), str(doc.get("kind")))
    where = _where(doc)
    # BEGIN SOLUTION
    if key in SCHEMAS:
        validator = jsonschema.Draft202012Validator(schema(SCHEMAS[key]))
        errors = [f"{where}: {'.'.join(str(p) for p in e.absolute_path) or '<root>'}: "
                  f"{e.message}" for e in validator.iter_errors(doc)]
        rules = CEL_RULES.get(key[1])
        if not errors and rules is not None:
            errors = [f"{where}: {e}" for e in rules(doc)]
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
