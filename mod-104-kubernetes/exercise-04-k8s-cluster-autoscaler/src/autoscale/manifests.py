"""Render every autoscaling manifest from one policy file (pure: dicts and text in, no I/O).

Output layout (what `autoscale render --out DIR` writes):

    base/hpa.yaml                 autoscaling/v2 HorizontalPodAutoscaler   (scaler: hpa)
    base/scaledobject.yaml        keda.sh/v1alpha1 ScaledObject            (scaler: keda)
    base/vpa.yaml                 autoscaling.k8s.io/v1 VerticalPodAutoscaler
    base/prometheus-adapter.yaml  ConfigMap with the adapter's rules (Pods/External metrics)
    base/nodepool.yaml            karpenter.sh/v1 NodePool                 (with a cluster file)
    base/cluster-autoscaler.flags Cluster Autoscaler command-line flags    (with a cluster file)
    base/kustomization.yaml
    overlays/<env>/kustomization.yaml   replicas and namespace patches per environment
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from autoscale.clusterfile import ClusterFile
from autoscale.policies import hpa
from autoscale.policyfile import PolicyFile, Replicas

LABELS = {"app.kubernetes.io/managed-by": "autoscale"}
ADAPTER_NAMESPACE = "monitoring"


def _meta(policy: PolicyFile, name: str | None = None) -> dict[str, Any]:
    return {"name": name or policy.name, "namespace": policy.namespace,
            "labels": {**LABELS, "app.kubernetes.io/name": policy.name}}


def _target_ref(policy: PolicyFile) -> dict[str, str]:
    return {"apiVersion": policy.target.api_version, "kind": policy.target.kind,
            "name": policy.target.name}


def hpa_manifest(policy: PolicyFile, replicas: Replicas | None = None) -> dict[str, Any]:
    """HPA v2 with the policy's metrics (all four types) and behavior, as written."""
    replicas = replicas or policy.replicas
    policy.hpa_spec(replicas)  # raises on unknown metric types, min > max
    spec: dict[str, Any] = {"scaleTargetRef": _target_ref(policy),
                            "minReplicas": max(replicas.min, 1),
                            "maxReplicas": replicas.max,
                            "metrics": copy.deepcopy(policy.hpa["metrics"])}
    if policy.hpa.get("behavior"):
        spec["behavior"] = copy.deepcopy(policy.hpa["behavior"])
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(policy), "spec": spec}


def scaled_object(policy: PolicyFile, replicas: Replicas | None = None) -> dict[str, Any]:
    """KEDA ScaledObject: prometheus and external triggers, fallback, HPA behavior."""
    if policy.keda is None:
        raise ValueError("policy has no keda section")
    keda = policy.keda
    replicas = replicas or policy.replicas
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": policy.target.api_version,
                           "kind": policy.target.kind, "name": policy.target.name},
        "pollingInterval": keda.polling_interval,
        "cooldownPeriod": keda.cooldown_period,
        "minReplicaCount": keda.min_replica_count if keda.min_replica_count is not None
        else replicas.min,
        "maxReplicaCount": replicas.max,
        "triggers": [{"type": t.type, **({"name": t.name} if t.name else {}),
                      "metadata": dict(t.metadata)} for t in keda.triggers],
    }
    if keda.idle_replica_count is not None:
        spec["idleReplicaCount"] = keda.idle_replica_count
    if keda.fallback is not None:
        spec["fallback"] = {"failureThreshold": keda.fallback.failure_threshold,
                            "replicas": keda.fallback.replicas}
    if policy.hpa.get("behavior"):
        spec["advanced"] = {"horizontalPodAutoscalerConfig": {
            "name": f"keda-hpa-{policy.name}",
            "behavior": copy.deepcopy(policy.hpa["behavior"])}}
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": _meta(policy), "spec": spec}


def vpa_manifest(policy: PolicyFile) -> dict[str, Any]:
    from autoscale.policyfile import VpaSection

    section = policy.vpa or VpaSection()
    container: dict[str, Any] = {"containerName": section.container,
                                 "controlledResources": list(section.controlled_resources)}
    if section.min_allowed:
        container["minAllowed"] = dict(section.min_allowed)
    if section.max_allowed:
        container["maxAllowed"] = dict(section.max_allowed)
    return {"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
            "metadata": _meta(policy),
            "spec": {"targetRef": _target_ref(policy),
                     "updatePolicy": {"updateMode": section.update_mode},
                     "resourcePolicy": {"containerPolicies": [container]}}}


def adapter_rules(policy: PolicyFile) -> dict[str, Any]:
    """prometheus-adapter config: a custom rule per Pods metric, an external rule per
    External metric (name `x_per_second` from counter `x_total` via rate())."""
    # BEGIN SOLUTION
    rules: list[dict[str, Any]] = []
    external: list[dict[str, Any]] = []
    for raw in policy.hpa.get("metrics", []):
        if raw.get("type") == "Pods":
            name = raw["pods"]["metric"]["name"]
            counter = name.removesuffix("_per_second") + "_total"
            rules.append({
                "seriesQuery": f'{counter}{{namespace!="",pod!=""}}',
                "resources": {"overrides": {"namespace": {"resource": "namespace"},
                                            "pod": {"resource": "pod"}}},
                "name": {"matches": f"^{counter.removesuffix('_total')}_total$",
                         "as": name},
                "metricsQuery": "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
            })
        elif raw.get("type") == "External":
            name = raw["external"]["metric"]["name"]
            external.append({
                "seriesQuery": f'{name}{{namespace!=""}}',
                "resources": {"overrides": {"namespace": {"resource": "namespace"}}},
                "name": {"matches": f"^{name}$", "as": name},
                "metricsQuery": "max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
            })
    config: dict[str, Any] = {"rules": rules}
    if external:
        config["externalRules"] = external
    return config
    # END SOLUTION


def adapter_configmap(policy: PolicyFile) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"prometheus-adapter-{policy.name}",
                         "namespace": ADAPTER_NAMESPACE, "labels": dict(LABELS)},
            "data": {"config.yaml": yaml.safe_dump(adapter_rules(policy), sort_keys=False)}}


def cluster_autoscaler_flags(spec: ClusterFile, cluster_name: str = "ml") -> list[str]:
    """Flags for the cluster-autoscaler container (AWS ASG discovery per node group)."""
    flags = ["--cloud-provider=aws", f"--expander={spec.expander.value}",
             f"--scale-down-utilization-threshold={spec.scale_down.utilization_threshold}",
             f"--scale-down-unneeded-time={int(spec.scale_down.unneeded_time)}s",
             f"--scale-down-delay-after-add={int(spec.scale_down.delay_after_add)}s",
             "--balance-similar-node-groups=true", "--skip-nodes-with-system-pods=false"]
    for group in spec.node_groups:
        flags.append(f"--nodes={group.min_size}:{group.max_size}:{cluster_name}-{group.name}")
    return flags


def nodepool(spec: ClusterFile, policy: PolicyFile) -> dict[str, Any]:
    """Karpenter v1 NodePool over the cluster file's instance types and capacity types."""
    types = sorted({g.instance_type for g in spec.node_groups})
    capacity = sorted({"spot" if g.spot else "on-demand" for g in spec.node_groups})
    cpu_limit = sum(g.to_group().cpu * g.max_size for g in spec.node_groups)
    return {
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
        "metadata": {"name": policy.name, "labels": dict(LABELS)},
        "spec": {
            "template": {
                "metadata": {"labels": {"workload": policy.name}},
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                     "name": "default"},
                    "requirements": [
                        {"key": "node.kubernetes.io/instance-type", "operator": "In",
                         "values": types},
                        {"key": "karpenter.sh/capacity-type", "operator": "In",
                         "values": capacity},
                    ],
                    "expireAfter": "720h",
                },
            },
            "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized",
                           "consolidateAfter": f"{int(spec.consolidate_after)}s",
                           "budgets": [{"nodes": "10%"}]},
            "limits": {"cpu": str(int(cpu_limit))},
        },
    }


def kustomization(resources: list[str]) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": resources}


def overlay(policy: PolicyFile, env: str) -> dict[str, Any]:
    """An overlay: namespace and replica bounds for one environment (JSON 6902 patches)."""
    spec = policy.overlays[env]
    doc: dict[str, Any] = kustomization(["../../base"])
    if spec.namespace:
        doc["namespace"] = spec.namespace
    if spec.replicas is not None:
        if policy.scaler == "hpa":
            policy.hpa_spec(spec.replicas)  # the overlay's bounds must be valid too
            kind, low, high = "HorizontalPodAutoscaler", "minReplicas", "maxReplicas"
            low_value = max(spec.replicas.min, 1)
        else:
            kind, low, high = "ScaledObject", "minReplicaCount", "maxReplicaCount"
            low_value = spec.replicas.min
        doc["patches"] = [{
            "target": {"kind": kind, "name": policy.name},
            "patch": yaml.safe_dump([
                {"op": "replace", "path": f"/spec/{low}", "value": low_value},
                {"op": "replace", "path": f"/spec/{high}", "value": spec.replicas.max},
            ], sort_keys=False)}]
    return doc


def render(policy: PolicyFile, spec: ClusterFile | None = None) -> dict[str, str]:
    """Every file of the output tree: relative path -> text."""
    docs: dict[str, Any] = {}
    if policy.scaler == "hpa":
        docs["base/hpa.yaml"] = hpa_manifest(policy)
    else:
        docs["base/scaledobject.yaml"] = scaled_object(policy)
    if policy.vpa is not None:
        docs["base/vpa.yaml"] = vpa_manifest(policy)
    if any(m.get("type") in ("Pods", "External") for m in policy.hpa.get("metrics", [])):
        docs["base/prometheus-adapter.yaml"] = adapter_configmap(policy)
    if spec is not None:
        docs["base/nodepool.yaml"] = nodepool(spec, policy)
    files = {path: yaml.safe_dump(doc, sort_keys=False) for path, doc in docs.items()}
    if spec is not None:
        files["base/cluster-autoscaler.flags"] = "\n".join(cluster_autoscaler_flags(spec)) + "\n"
    resources = sorted(p.removeprefix("base/") for p in docs
                       if p != "base/nodepool.yaml")
    files["base/kustomization.yaml"] = yaml.safe_dump(kustomization(resources), sort_keys=False)
    for env in policy.overlays:
        files[f"overlays/{env}/kustomization.yaml"] = yaml.safe_dump(overlay(policy, env),
                                                                      sort_keys=False)
    return dict(sorted(files.items()))


def metric_types(policy: PolicyFile) -> list[hpa.MetricType]:
    return [m.type for m in policy.hpa_spec().metrics] if policy.hpa.get("metrics") else []


def policy_for(policy: PolicyFile, simulated: str) -> PolicyFile:
    """The policy file a simulated winner deploys as: the HPA for hpa-*, a ScaledObject for
    keda, and for predictive a ScaledObject whose external (forecaster) trigger runs beside
    the prometheus one (KEDA scales to the max of its triggers: never below reactive)."""
    base = simulated.partition("@")[0]
    if base.startswith("hpa") or base == "vpa" or policy.keda is None:
        return policy.model_copy(update={"scaler": "hpa"})
    keda = policy.keda
    if base == "keda":
        keda = keda.model_copy(update={"triggers": [t for t in keda.triggers
                                                    if t.type == "prometheus"]})
    return policy.model_copy(update={"scaler": "keda", "keda": keda})
