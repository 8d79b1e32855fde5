"""Reconcile fleet.yaml with a cluster through the official kubernetes client.

Desired state is the rendered chart. Each object is read; a missing one is created, one
whose owned fields differ is replaced (PUT with its resourceVersion), an equal one is left
alone, so a second reconcile writes nothing and an interrupted one resumes where it stopped.
Budgets: month-to-date allocated GPU-hours per team from Prometheus; at 100 % of the
monthly budget the team's ClusterQueue gets `stopPolicy: Hold`, lifted when the month rolls
over (the month-to-date sum starts again from zero)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from gpufleet import render
from gpufleet.errors import UnavailableError
from gpufleet.fleet import Fleet
from gpufleet.promclient import PrometheusClient
from gpufleet.rules import ALLOCATED

OWNED_METADATA = ("labels",)
PLURALS = {"ClusterQueue": "clusterqueues", "LocalQueue": "localqueues",
           "ResourceFlavor": "resourceflavors", "ClusterPolicy": "clusterpolicies",
           "PrometheusRule": "prometheusrules", "ServiceMonitor": "servicemonitors",
           "Queue": "queues"}
CORE_KINDS: dict[str, str] = {  # kind -> snake-case name in the client's method names
    "ConfigMap": "config_map", "ResourceQuota": "resource_quota",
    "LimitRange": "limit_range", "PodTemplate": "pod_template",
}


@dataclass
class Change:
    action: str  # create | update
    kind: str
    namespace: str | None
    name: str
    fields: list[str] = field(default_factory=list)

    def line(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.action} {self.kind} {where}{detail}"


def month_start(now: float) -> float:
    t = dt.datetime.fromtimestamp(now, dt.UTC)
    return dt.datetime(t.year, t.month, 1, tzinfo=dt.UTC).timestamp()


def exhausted_budgets(fleet: Fleet, prom: PrometheusClient, now: float) -> frozenset[str]:
    """Teams whose month-to-date allocated GPU-hours reached their monthly budget."""
    # BEGIN SOLUTION
    window = int(now - month_start(now))
    if window <= 0:
        return frozenset()
    expr = (f"sum by (namespace) (count_over_time({ALLOCATED}[{window}s])) "
            f"* {fleet.scrape_interval_s} / 3600")
    spent = {r["metric"].get("namespace"): float(r["value"][1])
             for r in prom.query(expr, at=now)}
    return frozenset(t.name for t in fleet.teams if t.monthly_gpu_hours is not None
                     and spent.get(t.namespace, 0.0) >= t.monthly_gpu_hours)
    # END SOLUTION


def owned(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields this controller owns: everything but metadata, plus metadata.labels."""
    out = {k: v for k, v in doc.items() if k not in ("metadata", "status", "apiVersion",
                                                    "kind")}
    meta = doc.get("metadata") or {}
    out["metadata"] = {k: meta.get(k) or {} for k in OWNED_METADATA}
    return out


def differences(desired: dict[str, Any], current: dict[str, Any]) -> list[str]:
    want, have = owned(desired), owned(current)
    return sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))


class Kube:
    """get/create/replace any rendered object through the typed or custom-objects API."""

    def __init__(self, api_client: Any) -> None:
        self.api = api_client
        self.core = client.CoreV1Api(api_client)
        self.scheduling = client.SchedulingV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    @classmethod
    def from_environment(cls, kubeconfig: Path | None = None) -> Kube:
        path = kubeconfig or (Path(os.environ["KUBECONFIG"]) if os.environ.get("KUBECONFIG")
                              else None)
        try:
            api = config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=str(path) if path else None)
        except (config.ConfigException, OSError) as exc:
            raise UnavailableError(f"no Kubernetes credentials: {exc}") from exc
        return cls(api)

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ApiException:
            raise
        except (HTTPError, OSError) as exc:
            raise UnavailableError(f"{what}: Kubernetes API unreachable "
                                   f"({type(exc).__name__})") from exc

    def get(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        kind, meta = doc["kind"], doc["metadata"]
        name, ns = meta["name"], meta.get("namespace")
        try:
            if kind in CORE_KINDS:
                fn = getattr(self.core, f"read_namespaced_{CORE_KINDS[kind]}")
                found = self._call(f"reading {kind}", lambda: fn(name, ns))
                result: dict[str, Any] = self.api.sanitize_for_serialization(found)
            elif kind == "PriorityClass":
                found = self._call("reading PriorityClass",
                                   lambda: self.scheduling.read_priority_class(name))
                result = self.api.sanitize_for_serialization(found)
            else:
                group, version = doc["apiVersion"].split("/")
                plural = PLURALS[kind]
                if ns:
                    result = self._call(f"reading {kind}", lambda: self.custom
                                        .get_namespaced_custom_object(group, version, ns,
                                                                      plural, name))
                else:
                    result = self._call(f"reading {kind}", lambda: self.custom
                                        .get_cluster_custom_object(group, version, plural, name))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise UnavailableError(f"reading {kind} {name}: HTTP {exc.status}") from exc
        return result

    def write(self, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        kind, meta = doc["kind"], doc["metadata"]
        name, ns = meta["name"], meta.get("namespace")
        body = dict(doc)
        if current is not None:
            version = (current.get("metadata") or {}).get("resourceVersion")
            body["metadata"] = {**meta, **({"resourceVersion": version} if version else {})}
        try:
            if kind in CORE_KINDS:
                suffix = f"namespaced_{CORE_KINDS[kind]}"
                if current is None:
                    getattr(self.core, f"create_{suffix}")(ns, body)
                else:
                    getattr(self.core, f"replace_{suffix}")(name, ns, body)
            elif kind == "PriorityClass":
                if current is None:
                    self.scheduling.create_priority_class(body)  # type: ignore[arg-type]
                else:
                    self.scheduling.replace_priority_class(name, body)  # type: ignore[arg-type]
            else:
                group, version = doc["apiVersion"].split("/")
                plural = PLURALS[kind]
                if ns and current is None:
                    self.custom.create_namespaced_custom_object(group, version, ns, plural, body)
                elif ns:
                    self.custom.replace_namespaced_custom_object(group, version, ns, plural,
                                                                 name, body)
                elif current is None:
                    self.custom.create_cluster_custom_object(group, version, plural, body)
                else:
                    self.custom.replace_cluster_custom_object(group, version, plural, name,
                                                              body)
        except ApiException as exc:
            raise UnavailableError(f"writing {kind} {name}: HTTP {exc.status} "
                                   f"{exc.reason}") from exc
        except (HTTPError, OSError) as exc:
            raise UnavailableError(f"writing {kind} {name}: Kubernetes API unreachable") from exc


@dataclass
class Outcome:
    changes: list[Change]
    held: frozenset[str]
    applied: bool


def reconcile(fleet: Fleet, kube: Kube, prom: PrometheusClient | None, now: float,
              apply: bool = True) -> Outcome:
    """One pass: desired objects (with budget holds) vs the cluster; writes only the diff."""
    held = exhausted_budgets(fleet, prom, now) if prom is not None else frozenset()
    desired = render.render(fleet, held=held).documents
    changes: list[Change] = []
    # BEGIN SOLUTION
    for doc in desired:
        meta = doc["metadata"]
        current = kube.get(doc)
        if current is None:
            change = Change("create", doc["kind"], meta.get("namespace"), meta["name"])
        else:
            diff = differences(doc, current)
            if not diff:
                continue
            change = Change("update", doc["kind"], meta.get("namespace"), meta["name"], diff)
        changes.append(change)
        if apply:
            kube.write(doc, current)
    # END SOLUTION
    return Outcome(changes, held, apply)
