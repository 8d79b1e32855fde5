"""Trigger a retraining DAG run through Airflow's REST API v2, exactly once per decision.

`POST /auth/token` gives a JWT; `POST /api/v2/dags/{dag_id}/dagRuns` with our own
`dag_run_id` (the decision id) creates the run. A retry after a lost response gets 409 for
that id: that is success ("already existed"), never a second run. Transport errors and 5xx
are retried with exponential backoff; 401/403 and 404 are not (retrying cannot fix them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from driftwatch.errors import AuthError, DriftwatchError, NotFoundError, UnavailableError


@dataclass(frozen=True)
class TriggerResult:
    outcome: str  # "created" or "already existed"
    run: dict[str, Any]


class AirflowClient:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 10.0,
                 retries: int = 3, backoff_s: float = 0.5,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        self._username = username
        self._password = password
        self._retries = retries
        self._backoff = backoff_s
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request with retries on transport errors and 5xx."""
        last: str = ""
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                continue
            return response
        raise UnavailableError(f"Airflow API at {self.base_url} unreachable after "
                               f"{self._retries + 1} attempt(s) ({last})")

    def login(self) -> str:
        response = self._send("POST", "/auth/token",
                              json={"username": self._username, "password": self._password})
        if response.status_code in (401, 403):
            raise AuthError(f"Airflow at {self.base_url} rejected the credentials of "
                            f"{self._username!r} (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise DriftwatchError(f"Airflow login failed: HTTP {response.status_code}")
        token: str = response.json()["access_token"]
        self._token = token
        return token

    def _authed(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._token is None:
            self.login()
        response = self._send(method, path, headers={"Authorization": f"Bearer {self._token}"},
                              **kwargs)
        if response.status_code in (401, 403):
            raise AuthError(f"Airflow at {self.base_url} refused {method} {path} "
                            f"(HTTP {response.status_code})")
        return response

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        response = self._authed("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        if response.status_code == 404:
            raise NotFoundError(f"Airflow: no run {run_id} of DAG {dag_id}")
        data: dict[str, Any] = response.json()
        return data

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any]) -> TriggerResult:
        """Create run `run_id` of `dag_id` with `conf`; idempotent on `run_id`."""
        # BEGIN SOLUTION
        response = self._authed("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                                json={"dag_run_id": run_id, "logical_date": None,
                                      "conf": conf})
        if response.status_code == 404:
            raise NotFoundError(f"Airflow has no DAG {dag_id!r} (is the training DAG "
                                "deployed and parsed?)")
        if response.status_code == 409:
            return TriggerResult("already existed", self.dag_run(dag_id, run_id))
        if response.status_code >= 400:
            raise DriftwatchError(f"Airflow refused the run: HTTP {response.status_code}: "
                                  f"{response.text[:160]}")
        return TriggerResult("created", response.json())
        # END SOLUTION
