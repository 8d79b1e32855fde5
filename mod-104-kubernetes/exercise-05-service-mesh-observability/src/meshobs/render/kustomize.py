"""Kubernetes workloads for the mesh and the kustomize layout that applies them.

`base/` holds the plain Kubernetes objects (Namespace, ServiceAccounts - the identity each
workload certificate names -, one Service per service and one per version, one Deployment per
version); `overlays/istio` and `overlays/linkerd` add the mesh's injection switch and that
mesh's policy files. Everything is plain YAML so `kubectl kustomize` renders it unchanged.
"""

from __future__ import annotations

from typing import Any

import yaml

from meshobs.render import install, istio, linkerd
from meshobs.spec import MeshSpec

Manifest = dict[str, Any]


def _labels(spec: MeshSpec, name: str, version: str | None = None) -> dict[str, str]:
    labels = {"app": name, "app.kubernetes.io/part-of": spec.name}
    if version:
        labels["version"] = version
    return labels


def workloads(spec: MeshSpec, image: str = "meshobs:dev") -> list[Manifest]:
    """Namespace, ServiceAccounts, Services and Deployments (what kubernetes-validate checks)."""
    out: list[Manifest] = [{"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": spec.namespace}}]
    for name, service in spec.services.items():
        ns = spec.namespace
        out.append({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": name, "namespace": ns}})
        port = {"name": "http", "port": service.port, "targetPort": "http",
                "protocol": "TCP"}
        out.append({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": name, "namespace": ns, "labels": _labels(spec, name)},
                    "spec": {"selector": {"app": name}, "ports": [port]}})
        for version in service.versions:
            labels = _labels(spec, name, version)
            if len(service.versions) > 1:
                out.append({"apiVersion": "v1", "kind": "Service",
                            "metadata": {"name": f"{name}-{version}", "namespace": ns,
                                         "labels": labels},
                            "spec": {"selector": {"app": name, "version": version},
                                     "ports": [port]}})
            out.append({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": f"{name}-{version}", "namespace": ns, "labels": labels},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": name, "version": version}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "serviceAccountName": name,
                            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                            "containers": [{
                                "name": name, "image": image,
                                "args": ["demo", "serve", name, "--version", version],
                                "ports": [{"name": "http", "containerPort": service.port}],
                                "env": [{"name": "OTEL_SERVICE_NAME", "value": name}],
                                "readinessProbe": {"httpGet": {
                                    "path": service.traffic.health_check_path,
                                    "port": "http"}},
                                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                              "limits": {"memory": "256Mi"}},
                            }],
                        },
                    },
                },
            })
    return out


def _dump_all(manifests: list[Manifest]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False)


def bundle(spec: MeshSpec) -> dict[str, str]:
    """Relative path -> file text of the whole deployable tree (`meshobs render`)."""
    files = {
        "base/workloads.yaml": _dump_all(workloads(spec)),
        "base/kustomization.yaml": yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["workloads.yaml"]}, sort_keys=False),
        "overlays/istio/mesh.yaml": _dump_all(istio.render(spec)),
        "overlays/linkerd/mesh.yaml": _dump_all(linkerd.render(spec)),
        "install/istio-operator.yaml": yaml.safe_dump(install.istio_operator(spec),
                                                      sort_keys=False),
        "install/linkerd-values.yaml": yaml.safe_dump(install.linkerd_values(spec),
                                                      sort_keys=False),
    }
    injection = {
        "istio": {"op": "add", "path": "/metadata/labels",
                  "value": {"istio-injection": "enabled"}},
        "linkerd": {"op": "add", "path": "/metadata/annotations",
                    "value": {"linkerd.io/inject": "enabled"}},
    }
    for mesh, patch in injection.items():
        files[f"overlays/{mesh}/kustomization.yaml"] = yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["../../base", "mesh.yaml"],
            "patches": [{"target": {"kind": "Namespace", "name": spec.namespace},
                         "patch": yaml.safe_dump([patch], sort_keys=False)}],
        }, sort_keys=False)
    return files
