"""The Kubernetes API through the official client: the scale subresource, pods, Events and
HPA objects. Only this module imports `kubernetes`."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from autoscale.errors import KubernetesError
from autoscale.policies import hpa

COMPONENT = "autoscale-controller"


def _fail(what: str, exc: Exception) -> KubernetesError:
    if isinstance(exc, ApiException):
        return KubernetesError(f"{what}: HTTP {exc.status} {exc.reason}")
    return KubernetesError(f"{what}: Kubernetes API unreachable ({type(exc).__name__})")


class KubeAdapter:
    def __init__(self, api_client: Any) -> None:
        self.api = api_client
        self.apps = client.AppsV1Api(api_client)
        self.core = client.CoreV1Api(api_client)
        self.autoscaling = client.AutoscalingV2Api(api_client)

    @classmethod
    def from_environment(cls, kubeconfig: Path | None = None) -> KubeAdapter:
        """kubeconfig (argument, $KUBECONFIG, ~/.kube/config) or the in-cluster account."""
        path = kubeconfig or (Path(os.environ["KUBECONFIG"]) if os.environ.get("KUBECONFIG")
                              else None)
        try:
            if path is not None or Path("~/.kube/config").expanduser().is_file():
                api = config.new_client_from_config(  # type: ignore[no-untyped-call]
                    config_file=str(path) if path else None)
            else:
                config.load_incluster_config()  # type: ignore[no-untyped-call]
                api = client.ApiClient()
        except (config.ConfigException, OSError) as exc:
            raise KubernetesError(f"no Kubernetes credentials: {exc}") from exc
        return cls(api)

    def read_scale(self, namespace: str, name: str) -> tuple[int, dict[str, str]]:
        """(spec.replicas, the deployment's selector matchLabels)."""
        try:
            deployment = self.apps.read_namespaced_deployment(name, namespace)
        except (ApiException, HTTPError) as exc:
            raise _fail(f"reading deployment {namespace}/{name}", exc) from exc
        selector = (deployment.spec.selector.match_labels or {}) if deployment.spec.selector \
            else {}
        return int(deployment.spec.replicas or 0), dict(selector)

    def pods(self, namespace: str, selector: dict[str, str]) -> list[hpa.Pod]:
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        try:
            found = self.core.list_namespaced_pod(namespace, label_selector=label_selector)
        except (ApiException, HTTPError) as exc:
            raise _fail(f"listing pods in {namespace}", exc) from exc
        out = []
        for pod in found.items:
            status = pod.status
            phase = (status.phase if status else None) or "Pending"
            ready = any(c.type == "Ready" and c.status == "True"
                        for c in ((status.conditions if status else None) or []))
            meta = pod.metadata
            if meta is None or not meta.name:
                continue
            out.append(hpa.Pod(str(meta.name), phase, ready, meta.deletion_timestamp is not None))
        return out

    def scale(self, namespace: str, name: str, replicas: int) -> None:
        try:
            self.apps.patch_namespaced_deployment_scale(name, namespace,
                                                        {"spec": {"replicas": replicas}})
        except (ApiException, HTTPError) as exc:
            raise _fail(f"scaling deployment {namespace}/{name}", exc) from exc

    def event(self, namespace: str, name: str, reason: str, message: str,
              kind: str = "Deployment", type_: str = "Normal") -> None:
        now = datetime.datetime.now(tz=datetime.UTC)
        body = client.CoreV1Event(
            metadata=client.V1ObjectMeta(generate_name=f"{name}."),
            involved_object=client.V1ObjectReference(kind=kind, name=name,
                                                     namespace=namespace,
                                                     api_version="apps/v1"),
            reason=reason, message=message, type=type_, count=1,
            first_timestamp=now, last_timestamp=now,
            source=client.V1EventSource(component=COMPONENT),
            reporting_component=COMPONENT)
        try:
            self.core.create_namespaced_event(namespace, body)
        except (ApiException, HTTPError) as exc:
            raise _fail(f"writing an Event in {namespace}", exc) from exc

    def apply_hpa(self, manifest: dict[str, Any]) -> str:
        """Create the HPA, or patch it when it exists: "created" / "updated"."""
        meta = manifest["metadata"]
        body: Any = manifest  # the client serializes plain dicts as they are
        try:
            try:
                self.autoscaling.read_namespaced_horizontal_pod_autoscaler(
                    meta["name"], meta["namespace"])
            except ApiException as exc:
                if exc.status != 404:
                    raise
                self.autoscaling.create_namespaced_horizontal_pod_autoscaler(
                    meta["namespace"], body)
                return "created"
            self.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
                meta["name"], meta["namespace"], body)
            return "updated"
        except (ApiException, HTTPError) as exc:
            raise _fail(f"applying HPA {meta['namespace']}/{meta['name']}", exc) from exc
