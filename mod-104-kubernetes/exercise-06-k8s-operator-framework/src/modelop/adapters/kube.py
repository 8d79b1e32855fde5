"""The Kubernetes API, through the official client's transport (auth, TLS, kubeconfig).

Generic get/create/patch/delete by kind, so the reconciler handles every child the same way,
plus the error translation the handlers rely on: 409 and 5xx/429 are `TransientApiError`
(kopf retries with backoff), a missing resource type (a CRD that is not installed, e.g. no
Prometheus Operator for ServiceMonitor) is `MissingKindError`, anything else `ApiError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s_client

MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Kind:
    prefix: str  # "/api/v1" or "/apis/<group>/<version>"
    plural: str
    namespaced: bool = True


KINDS: dict[str, Kind] = {
    "ConfigMap": Kind("/api/v1", "configmaps"),
    "Service": Kind("/api/v1", "services"),
    "Deployment": Kind("/apis/apps/v1", "deployments"),
    "HorizontalPodAutoscaler": Kind("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    "PodDisruptionBudget": Kind("/apis/policy/v1", "poddisruptionbudgets"),
    "ServiceMonitor": Kind("/apis/monitoring.coreos.com/v1", "servicemonitors"),
    "VirtualService": Kind("/apis/networking.istio.io/v1", "virtualservices"),
    "HTTPRoute": Kind("/apis/gateway.networking.k8s.io/v1", "httproutes"),
    "MLModel": Kind("/apis/aiinfra.dev/v1alpha1", "mlmodels"),
}


class ApiError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class TransientApiError(ApiError):
    """Conflict (409), throttling (429) or a server error (5xx): retry later."""


class MissingKindError(ApiError):
    """The API server does not serve this kind (its CRD is not installed)."""


class KubeApi:
    """Plain-dict access to the API; counts its writes (the benchmark and metrics read them)."""

    def __init__(self, api_client: k8s_client.ApiClient) -> None:
        self.api_client = api_client
        self.writes = 0

    @classmethod
    def from_kubeconfig(cls) -> KubeApi:
        from kubernetes import config

        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        return cls(k8s_client.ApiClient())

    # ------------------------------------------------------------------ paths

    @staticmethod
    def path(kind: str, namespace: str | None, name: str | None = None,
             subresource: str | None = None) -> str:
        info = KINDS[kind]
        parts = [info.prefix]
        if info.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(info.plural)
        if name:
            parts.append(name)
        if subresource:
            parts.append(subresource)
        return "/".join(parts)

    # ------------------------------------------------------------------ transport

    def _request(self, method: str, path: str, body: Any = None,
                 content_type: str = "application/json",
                 query: Mapping[str, str] | None = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        _, url, headers, serialized, _ = self.api_client.param_serialize(
            method=method, resource_path=path, query_params=list((query or {}).items()),
            header_params=headers, body=body, auth_settings=["BearerToken"])
        try:
            response = self.api_client.call_api(method, url, header_params=headers,
                                                body=serialized, _request_timeout=30)
            response.read()  # type: ignore[no-untyped-call]
        except k8s_client.ApiException as exc:  # transport failures surface as status 0
            raise TransientApiError(exc.status or 0, f"{method} {path}: {exc.reason}") from exc
        except OSError as exc:
            raise TransientApiError(0, f"{method} {path}: {exc}") from exc
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            self.writes += 1
        text = response.data.decode() if response.data else ""
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = text
        return response.status, payload

    @staticmethod
    def _fail(status: int, method: str, path: str, payload: Any) -> ApiError:
        message = payload.get("message") if isinstance(payload, dict) else str(payload)
        text = f"{method} {path} -> {status}: {str(message)[:300]}"
        if status in (409, 429) or status >= 500:
            return TransientApiError(status, text)
        return ApiError(status, text)

    # ------------------------------------------------------------------ verbs

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        path = self.path(kind, namespace, name)
        status, payload = self._request("GET", path)
        if status == 404:
            return None
        if status >= 300:
            raise self._fail(status, "GET", path, payload)
        return dict(payload)

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        kind, meta = obj["kind"], obj["metadata"]
        path = self.path(kind, meta.get("namespace"))
        status, payload = self._request("POST", path, dict(obj))
        if status == 404:
            raise MissingKindError(404, f"the cluster does not serve {kind} "
                                        f"({KINDS[kind].prefix}): is its CRD installed?")
        if status >= 300:
            raise self._fail(status, "POST", path, payload)
        return dict(payload)

    def patch(self, kind: str, namespace: str | None, name: str, patch: Any,
              subresource: str | None = None,
              content_type: str = MERGE_PATCH) -> dict[str, Any]:
        path = self.path(kind, namespace, name, subresource)
        status, payload = self._request("PATCH", path, patch, content_type)
        if status >= 300:
            raise self._fail(status, "PATCH", path, payload)
        return dict(payload)

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        """True when something was deleted; a missing object is fine (already gone)."""
        path = self.path(kind, namespace, name)
        status, payload = self._request("DELETE", path)
        if status == 404:
            return False
        if status >= 300:
            raise self._fail(status, "DELETE", path, payload)
        return True

    def list(self, kind: str, namespace: str | None = None,
             label_selector: str | None = None) -> list[dict[str, Any]]:
        path = self.path(kind, namespace)
        query = {"labelSelector": label_selector} if label_selector else None
        status, payload = self._request("GET", path, query=query)
        if status >= 300:
            raise self._fail(status, "GET", path, payload)
        return list(payload.get("items") or [])
