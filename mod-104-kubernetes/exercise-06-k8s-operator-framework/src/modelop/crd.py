"""The MLModel CustomResourceDefinition, built in code and rendered to deploy/base/crd.yaml.

Structural schema (every field typed), defaults and enums the API server applies itself,
printer columns for `kubectl get mlmodels`, the status and scale subresources (so
`kubectl scale` and an HPA on the MLModel work), and CEL `x-kubernetes-validations` for the
cross-field rules an API server can check without calling the webhook.
"""

from __future__ import annotations

from typing import Any

from modelop.spec import FRAMEWORKS, GROUP, KIND, MAX_REPLICAS, PLURAL, ROUTINGS, VERSION

URI_PATTERN = r"^(s3|gs|hf|file)://.+$"
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$"

CEL_RULES: list[dict[str, str]] = [
    {"rule": "!has(self.autoscaling) || self.autoscaling.minReplicas <= "
             "self.autoscaling.maxReplicas",
     "message": "autoscaling.minReplicas must not exceed autoscaling.maxReplicas"},
    {"rule": "!has(self.autoscaling) || !has(self.replicas) || "
             "self.replicas <= self.autoscaling.maxReplicas",
     "message": "replicas must not exceed autoscaling.maxReplicas"},
    {"rule": "!has(self.canary) || (has(self.canary.gates) && "
             "(has(self.canary.gates.maxErrorRate) || "
             "has(self.canary.gates.maxP95LatencySeconds)))",
     "message": "a canary needs gates (maxErrorRate or maxP95LatencySeconds)"},
    {"rule": "!has(self.canary) || has(self.canary.modelUri) || has(self.canary.image)",
     "message": "a canary must set modelUri or image"},
    {"rule": "!self.model.uri.startsWith('hf://') || self.model.framework == 'huggingface'",
     "message": "hf:// models need framework huggingface"},
]


def _quantity() -> dict[str, Any]:
    return {"type": "string", "pattern": QUANTITY_PATTERN}


def spec_schema() -> dict[str, Any]:
    """The openAPIV3Schema of `.spec` (also what the tests validate examples against)."""
    # BEGIN SOLUTION: types, patterns, enums, defaults; CEL_RULES on spec
    return {
        "type": "object",
        "required": ["model"],
        "x-kubernetes-validations": CEL_RULES,
        "properties": {
            "model": {
                "type": "object", "required": ["uri", "framework"],
                "properties": {
                    "uri": {"type": "string", "pattern": URI_PATTERN, "maxLength": 2048},
                    "framework": {"type": "string", "enum": list(FRAMEWORKS)},
                }},
            "server": {
                "type": "object",
                "properties": {
                    "image": {"type": "string", "minLength": 1},
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                             "default": 8080},
                }},
            "replicas": {"type": "integer", "minimum": 0, "maximum": MAX_REPLICAS,
                         "default": 1},
            "resources": {
                "type": "object",
                "properties": {
                    "requests": {"type": "object", "properties": {
                        "cpu": _quantity(), "memory": _quantity()}},
                    "limits": {"type": "object", "properties": {
                        "cpu": _quantity(), "memory": _quantity()}},
                    "gpu": {"type": "integer", "minimum": 0, "maximum": 16, "default": 0},
                }},
            "autoscaling": {
                "type": "object",
                "properties": {
                    "enabled": {"type": "boolean", "default": True},
                    "minReplicas": {"type": "integer", "minimum": 1, "default": 1},
                    "maxReplicas": {"type": "integer", "minimum": 1,
                                    "maximum": MAX_REPLICAS, "default": 5},
                    "targetCPUUtilization": {"type": "integer", "minimum": 1,
                                             "maximum": 100, "default": 70},
                }},
            "disruptionBudget": {
                "type": "object", "required": ["minAvailable"],
                "properties": {"minAvailable": {"type": "integer", "minimum": 0}}},
            "monitoring": {
                "type": "object",
                "properties": {"serviceMonitor": {"type": "boolean", "default": False}}},
            "canary": {
                "type": "object",
                "properties": {
                    "modelUri": {"type": "string", "pattern": URI_PATTERN},
                    "image": {"type": "string", "minLength": 1},
                    "steps": {"type": "array", "maxItems": 10,
                              "items": {"type": "integer", "minimum": 1, "maximum": 99},
                              "default": [10, 50]},
                    "stepSeconds": {"type": "integer", "minimum": 0, "default": 30},
                    "progressDeadlineSeconds": {"type": "integer", "minimum": 1,
                                                "default": 600},
                    "trafficRouting": {"type": "string", "enum": list(ROUTINGS),
                                       "default": "replicas"},
                    "gateway": {"type": "string"},
                    "gates": {
                        "type": "object",
                        "properties": {
                            "maxErrorRate": {"type": "number", "minimum": 0, "maximum": 1},
                            "maxP95LatencySeconds": {"type": "number", "minimum": 0},
                            "window": {"type": "string", "pattern": r"^[0-9]+[smh]$",
                                       "default": "1m"},
                        }},
                }},
        },
    }
    # END SOLUTION


def status_schema() -> dict[str, Any]:
    condition = {"type": "object", "required": ["type", "status"], "properties": {
        "type": {"type": "string"}, "status": {"type": "string",
                                               "enum": ["True", "False", "Unknown"]},
        "reason": {"type": "string"}, "message": {"type": "string"},
        "observedGeneration": {"type": "integer"},
        "lastTransitionTime": {"type": "string", "format": "date-time"}}}
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {
        "observedGeneration": {"type": "integer"},
        "conditions": {"type": "array", "items": condition,
                       "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        "stableSlot": {"type": "string", "enum": ["blue", "green"]},
        "stableRevision": {"type": "string"},
        "replicas": {"type": "integer"}, "readyReplicas": {"type": "integer"},
        "selector": {"type": "string"}, "endpoint": {"type": "string"},
        "children": {"type": "array", "items": {"type": "string"}},
        "rollout": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "cleanup": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    }}


def crd_manifest() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "mlmodel", "kind": KIND,
                      "shortNames": ["mlm"], "categories": ["ml"]},
            "versions": [{
                "name": VERSION, "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"apiVersion": {"type": "string"},
                                   "kind": {"type": "string"},
                                   "metadata": {"type": "object"},
                                   "spec": spec_schema(), "status": status_schema()}}},
                "subresources": {
                    "status": {},
                    "scale": {"specReplicasPath": ".spec.replicas",
                              "statusReplicasPath": ".status.replicas",
                              "labelSelectorPath": ".status.selector"}},
                "additionalPrinterColumns": [
                    {"name": "Framework", "type": "string", "jsonPath": ".spec.model.framework"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    {"name": "Ready", "type": "string",
                     "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
                    {"name": "Canary", "type": "string", "jsonPath": ".status.rollout.phase"},
                    {"name": "Weight", "type": "integer", "jsonPath": ".status.rollout.weight"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }],
        },
    }
