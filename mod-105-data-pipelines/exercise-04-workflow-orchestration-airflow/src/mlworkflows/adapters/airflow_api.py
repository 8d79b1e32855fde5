"""Airflow REST API v2 client (JWT from the auth manager's /auth/token endpoint).

Only what `sla-report` needs: DAG runs and task instances across all DAGs (`~` wildcard),
paged. Connection problems become `AirflowApiUnavailableError` with the URL in the message.
"""

from __future__ import annotations

from typing import Any

import httpx


class AirflowApiError(Exception):
    """The API answered, but not with what we asked for (auth, 4xx/5xx)."""


class AirflowApiUnavailableError(AirflowApiError):
    """The API could not be reached at all."""


class AirflowClient:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        self._username = username
        self._password = password
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise AirflowApiUnavailableError(f"cannot reach the Airflow API at {self.base_url} "
                                        f"({type(exc).__name__}: {exc})") from exc

    def login(self) -> str:
        # BEGIN SOLUTION: POST /auth/token for a JWT; 401/403 means rejected credentials
        response = self._request("POST", "/auth/token",
                                 json={"username": self._username, "password": self._password})
        if response.status_code in (401, 403):
            raise AirflowApiError(f"Airflow API at {self.base_url} rejected the credentials "
                                  f"of {self._username!r}")
        if response.status_code >= 400:
            raise AirflowApiError(f"login failed: HTTP {response.status_code} from "
                                  f"{self.base_url}/auth/token")
        token: str = response.json()["access_token"]
        self._token = token
        return token
        # END SOLUTION

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._token is None:
            self.login()
        response = self._request("GET", path, params=params,
                                 headers={"Authorization": f"Bearer {self._token}"})
        if response.status_code >= 400:
            raise AirflowApiError(f"GET {path}: HTTP {response.status_code}: "
                                  f"{response.text[:200]}")
        data: dict[str, Any] = response.json()
        return data

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        if self._token is None:
            self.login()
        response = self._request("POST", path, json=payload,
                                 headers={"Authorization": f"Bearer {self._token}"})
        if response.status_code >= 400:
            raise AirflowApiError(f"POST {path}: HTTP {response.status_code}: "
                                  f"{response.text[:200]}")
        data: dict[str, Any] = response.json()
        return data

    def _paged(self, path: str, key: str, limit: int,
               params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = min(limit, 100)
        while len(items) < limit:
            data = self.get(path, {**(params or {}), "limit": page, "offset": len(items)})
            batch = data.get(key, [])
            items.extend(batch)
            if len(batch) < page or len(items) >= int(data.get("total_entries", 0)):
                break
        return items[:limit]

    def dag_runs(self, limit: int = 500) -> list[dict[str, Any]]:
        return self._paged("/api/v2/dags/~/dagRuns", "dag_runs", limit,
                           {"order_by": "-start_date"})

    def task_instances(self, limit: int = 2000) -> list[dict[str, Any]]:
        return self._paged("/api/v2/dags/~/dagRuns/~/taskInstances", "task_instances", limit)

    def unpause(self, dag_id: str) -> None:
        if self._token is None:
            self.login()
        response = self._request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False},
                                 headers={"Authorization": f"Bearer {self._token}"})
        if response.status_code >= 400:
            raise AirflowApiError(f"unpause {dag_id}: HTTP {response.status_code}")

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.post(f"/api/v2/dags/{dag_id}/dagRuns",
                         {"logical_date": None, "conf": conf or {}})

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
