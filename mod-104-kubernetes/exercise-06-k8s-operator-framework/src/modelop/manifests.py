"""Deployment manifests for the operator itself, rendered to deploy/ by `modelop render`.

deploy/base: the CRD, kopf's peering CRDs, a namespace, least-privilege RBAC, the operator
Deployment (2 replicas with peering: one active, one standby), a Service for the webhook and
metrics. deploy/overlays/dev (1 replica, debug logs, fast resync) and overlays/prod (TLS
webhook on, resources) are kustomize overlays: `kubectl apply -k deploy/overlays/prod`.
"""

from __future__ import annotations

from typing import Any

import yaml

from modelop.crd import crd_manifest
from modelop.spec import GROUP, PLURAL

NAMESPACE = "modelop-system"
NAME = "modelop"
IMAGE = "ghcr.io/aiinfra/modelop:0.1.0"
CHILD_VERBS = ["get", "create", "patch", "delete"]

RBAC_RULES: list[dict[str, Any]] = [
    {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status"], "verbs": ["get", "patch"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": CHILD_VERBS},
    {"apiGroups": [""], "resources": ["services", "configmaps"], "verbs": CHILD_VERBS},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
     "verbs": CHILD_VERBS},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": CHILD_VERBS},
    {"apiGroups": ["monitoring.coreos.com"], "resources": ["servicemonitors"],
     "verbs": CHILD_VERBS},
    {"apiGroups": ["networking.istio.io"], "resources": ["virtualservices"],
     "verbs": CHILD_VERBS},
    {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["httproutes"],
     "verbs": CHILD_VERBS},
    # kopf itself: events for every action, CRD discovery, peering, managed webhooks.
    {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
     "verbs": ["list", "watch"]},
    {"apiGroups": ["kopf.dev"], "resources": ["clusterkopfpeerings", "kopfpeerings"],
     "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": ["admissionregistration.k8s.io"],
     "resources": ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
     "verbs": ["create", "patch"]},
]


def rbac() -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": NAME, "namespace": NAMESPACE}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": NAME}, "rules": RBAC_RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": NAME},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": NAME},
         "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]},
    ]


def peering_crds() -> list[dict[str, Any]]:
    """kopf's peering resources (from kopf's docs): where the instances see each other."""
    def crd(kind: str, plural: str, scope: str) -> dict[str, Any]:
        return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{plural}.kopf.dev"},
                "spec": {"group": "kopf.dev", "scope": scope,
                         "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
                         "versions": [{"name": "v1", "served": True, "storage": True,
                                       "schema": {"openAPIV3Schema": {
                                           "type": "object",
                                           "x-kubernetes-preserve-unknown-fields": True}}}]}}
    return [crd("ClusterKopfPeering", "clusterkopfpeerings", "Cluster"),
            crd("KopfPeering", "kopfpeerings", "Namespaced"),
            {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering",
             "metadata": {"name": NAME}}]


def operator_deployment(replicas: int = 2) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": NAME}
    container = {
        "name": "operator", "image": IMAGE,
        "args": ["run", "--all-namespaces", "--peering", NAME, "--liveness",
                 "http://0.0.0.0:8081/healthz"],
        "ports": [{"name": "webhook", "containerPort": 9443},
                  {"name": "metrics", "containerPort": 8080}],
        "env": [{"name": "MODELOP_CACHE_NAMESPACE", "value": NAMESPACE},
                {"name": "MODELOP_WEBHOOK__HOST",
                 "value": f"{NAME}.{NAMESPACE}.svc"}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8081},
                          "periodSeconds": 10},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "256Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": 10001,
                            "capabilities": {"drop": ["ALL"]}},
    }
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                  "strategy": {"type": "Recreate"},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"serviceAccountName": NAME,
                                        "containers": [container]}}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
         "spec": {"selector": labels,
                  "ports": [{"name": "webhook", "port": 443, "targetPort": "webhook"},
                            {"name": "metrics", "port": 8080, "targetPort": "metrics"}]}},
    ]


def _dump(docs: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


def render() -> dict[str, str]:
    """relative path under deploy/ -> file text."""
    namespace = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}]
    files = {
        "base/namespace.yaml": _dump(namespace),
        "base/crd.yaml": _dump([crd_manifest()]),
        "base/peering.yaml": _dump(peering_crds()),
        "base/rbac.yaml": _dump(rbac()),
        "base/operator.yaml": _dump(operator_deployment()),
        "base/kustomization.yaml": _dump([{
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["namespace.yaml", "crd.yaml", "peering.yaml", "rbac.yaml",
                          "operator.yaml"]}]),
        "overlays/dev/kustomization.yaml": _dump([{
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["../../base"],
            "patches": [{"target": {"kind": "Deployment", "name": NAME}, "patch": _dump([
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": NAME},
                 "spec": {"replicas": 1, "template": {"spec": {"containers": [{
                     "name": "operator",
                     "env": [{"name": "MODELOP_RESYNC_SECONDS", "value": "5"},
                             {"name": "AIINFRA_LOG_LEVEL", "value": "DEBUG"}]}]}}}}])}]}]),
        "overlays/prod/kustomization.yaml": _dump([{
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["../../base"],
            "images": [{"name": IMAGE.split(":")[0], "newTag": IMAGE.split(":")[1]}],
            "patches": [{"target": {"kind": "Deployment", "name": NAME}, "patch": _dump([
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": NAME},
                 "spec": {"template": {"spec": {"containers": [{
                     "name": "operator",
                     "env": [{"name": "MODELOP_WEBHOOK__ENABLED", "value": "true"},
                             {"name": "MODELOP_WEBHOOK__CERTFILE", "value": "/tls/tls.crt"},
                             {"name": "MODELOP_WEBHOOK__PKEYFILE", "value": "/tls/tls.key"},
                             {"name": "MODELOP_PROMETHEUS_URL",
                              "value": "http://prometheus-operated.monitoring.svc:9090"}],
                     "volumeMounts": [{"name": "webhook-tls", "mountPath": "/tls",
                                       "readOnly": True}],
                     "resources": {"requests": {"cpu": "200m", "memory": "256Mi"},
                                   "limits": {"memory": "512Mi"}}}],
                     # a cert-manager Certificate for modelop.modelop-system.svc fills it
                     "volumes": [{"name": "webhook-tls",
                                  "secret": {"secretName": "modelop-webhook-tls"}}]}}}}])}]}]),
    }
    return files
