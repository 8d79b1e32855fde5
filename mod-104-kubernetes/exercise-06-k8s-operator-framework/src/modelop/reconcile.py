"""One level-based reconcile of one MLModel: observe, decide, write only what differs.

Every trigger (create, update, resume, the resync timer) calls `reconcile()`; it reads the
MLModel fresh from the API (a timer's body can be seconds old), works out the children the
spec wants *now* (including the canary step), and for each child compares desired with live
before writing. The result is the same whatever happened before: run it twice and the second
run writes nothing. Kubernetes access goes through `KubeApi`; Prometheus through `fetch`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf

from modelop import builders, conditions, diff, gates, rollout
from modelop.adapters.kube import KubeApi, MissingKindError
from modelop.builders import LABEL_MODEL, Traffic
from modelop.config import Settings
from modelop.spec import KIND, ModelSpec, Predictor, SpecError, parse_spec

log = logging.getLogger(__name__)

Fetch = Callable[[str], float | None]


@dataclass
class ChildAction:
    verb: str  # Created, Updated, Deleted
    key: str  # Kind/name


@dataclass
class Outcome:
    status: dict[str, Any]
    actions: list[ChildAction] = field(default_factory=list)
    rollout_action: rollout.Action | None = None
    status_written: bool = False


class InvalidSpecError(Exception):
    """The spec cannot be reconciled (the handler marks the object Degraded and gives up
    until the spec changes: kopf.PermanentError)."""

    def __init__(self, error: SpecError) -> None:
        super().__init__(str(error))
        self.problems = error.problems


class ChildKindMissingError(Exception):
    """A child kind the spec asks for is not served (e.g. ServiceMonitor without the
    Prometheus Operator): Degraded, retried later in case the CRD gets installed."""


# ---------------------------------------------------------------------------- helpers


def _owned_status(status: Mapping[str, Any] | None) -> dict[str, Any]:
    """The status fields this operator owns (kopf may keep its own keys next to them)."""
    keys = ("observedGeneration", "conditions", "stableSlot", "stableRevision", "replicas",
            "readyReplicas", "selector", "endpoint", "rollout", "children", "cleanup")
    return {k: v for k, v in (status or {}).items() if k in keys}


def apply_child(api: KubeApi, desired: dict[str, Any], always_patch: bool = False,
                ) -> tuple[str | None, dict[str, Any]]:
    """Create or patch one child when it differs; (verb or None, live object after)."""
    # BEGIN SOLUTION: GET; absent -> create; differs -> pinned merge patch
    meta = desired["metadata"]
    live = api.get(desired["kind"], meta.get("namespace"), meta["name"])
    if live is None:
        return "Created", api.create(desired)
    changed = diff.needs_write(desired, live)
    if not changed and not always_patch:
        return None, live
    patched = api.patch(desired["kind"], meta.get("namespace"), meta["name"],
                        diff.merge_patch(desired, live))
    return ("Updated" if changed else None), patched
    # END SOLUTION


def _stable_predictor(spec: ModelSpec, state: rollout.RolloutState | None) -> Predictor:
    """After a promotion the canary's predictor is the stable one until the spec changes."""
    if spec.canary is not None and state is not None and state.phase == rollout.PROMOTED \
            and state.revision == spec.canary.predictor.revision:
        return spec.canary.predictor
    return spec.predictor


def plan_traffic(api: KubeApi, namespace: str, name: str, spec: ModelSpec,
                 status: Mapping[str, Any], fetch: Fetch | None, settings: Settings,
                 now: float) -> tuple[Traffic, rollout.RolloutState | None,
                                      rollout.Action | None]:
    """Where traffic should go now, running one step of the canary state machine."""
    # BEGIN SOLUTION: status -> readiness + gates -> rollout.advance -> Traffic
    stable_slot = status.get("stableSlot") or builders.SLOTS[0]
    state = rollout.RolloutState.from_status(status.get("rollout"))
    stable = _stable_predictor(spec, state)
    canary = spec.canary
    if canary is None or canary.predictor.revision == stable.revision:
        keep = state if state is not None and state.finished else None
        return Traffic(stable_slot=stable_slot, stable=stable), keep, None
    slot = builders.other_slot(stable_slot)
    if state is not None and state.revision == canary.predictor.revision:
        slot = state.slot
    live = api.get("Deployment", namespace, builders.deployment_name(name, slot))
    wanted = builders.canary_replicas(spec.replicas, state.weight if state else 0)[1]
    is_candidate = live is not None and \
        ((live.get("spec") or {}).get("template", {}).get("metadata", {}).get("labels", {})
         .get(builders.LABEL_REVISION) == canary.predictor.revision)
    ready = is_candidate and conditions.deployment_ready(live, wanted)[0]
    report = None
    if ready and fetch is not None and state is not None and not state.finished:
        queries = gates.render_queries(canary.gates, namespace, name,
                                       canary.predictor.revision,
                                       settings.error_rate_query, settings.p95_query)
        report = gates.evaluate(queries, fetch)
    decision = rollout.advance(state, canary, canary.predictor.revision, slot, ready,
                               report, now)
    new = decision.state
    if new.phase == rollout.PROMOTED:
        return Traffic(stable_slot=new.slot, stable=canary.predictor), new, decision.action
    if new.phase == rollout.ROLLED_BACK:
        return Traffic(stable_slot=stable_slot, stable=stable), new, decision.action
    return (Traffic(stable_slot=stable_slot, stable=stable, canary_slot=new.slot,
                    canary=canary.predictor, weight=new.weight, routing=canary.routing,
                    gateway=canary.gateway), new, decision.action)
    # END SOLUTION


def _wanted_replicas(spec: ModelSpec, traffic: Traffic) -> int:
    if spec.autoscaling is not None:
        return spec.autoscaling.min_replicas
    if traffic.canary is not None and traffic.routing == "replicas":
        return builders.canary_replicas(spec.replicas, traffic.weight)[0]
    return spec.replicas


def _conditions(spec: ModelSpec, traffic: Traffic, stable_live: dict[str, Any] | None,
                state: rollout.RolloutState | None) -> list[conditions.Condition]:
    ready, why = conditions.deployment_ready(stable_live, _wanted_replicas(spec, traffic))
    if spec.replicas == 0 and spec.autoscaling is None:
        ready, why = True, "scaled to zero"
    progressing_reason, progressing_msg, progressing = "Stable", "no rollout in progress", False
    if state is not None and not state.finished:
        progressing, progressing_reason, progressing_msg = True, "CanaryInProgress", \
            state.message
    elif not ready:
        progressing, progressing_reason, progressing_msg = True, "RollingOut", why
    degraded = conditions.Condition(conditions.DEGRADED, False, "AsExpected", "")
    if state is not None and state.phase == rollout.ROLLED_BACK:
        degraded = conditions.Condition(conditions.DEGRADED, True, "CanaryRolledBack",
                                        state.message)
    return [conditions.Condition(conditions.READY, ready,
                                 "Available" if ready else "NotAvailable", why),
            conditions.Condition(conditions.PROGRESSING, progressing, progressing_reason,
                                 progressing_msg),
            degraded]


def cache_entry_key(namespace: str, name: str) -> str:
    return f"{namespace}.{name}"


def ensure_cache_entry(api: KubeApi, settings: Settings, namespace: str, name: str,
                       uri: str) -> str | None:
    """Register the model in the shared cache index (a ConfigMap no MLModel owns, so
    Kubernetes garbage collection never removes it: the finalizer must)."""
    key = cache_entry_key(namespace, name)
    live = api.get("ConfigMap", settings.cache_namespace, settings.cache_configmap)
    if live is None:
        api.create({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": settings.cache_configmap,
                                 "namespace": settings.cache_namespace,
                                 "labels": {builders.LABEL_MANAGED: "modelop"}},
                    "data": {key: uri}})
        return "Created"
    if (live.get("data") or {}).get(key) == uri:
        return None
    api.patch("ConfigMap", settings.cache_namespace, settings.cache_configmap,
              {"data": {key: uri}})
    return "Updated"


def remove_cache_entry(api: KubeApi, settings: Settings, namespace: str, name: str) -> bool:
    """The finalizer's job; True when an entry was removed."""
    # BEGIN SOLUTION: patch the cache ConfigMap key to null; False when there is nothing to remove
    key = cache_entry_key(namespace, name)
    live = api.get("ConfigMap", settings.cache_namespace, settings.cache_configmap)
    if live is None or key not in (live.get("data") or {}):
        return False
    api.patch("ConfigMap", settings.cache_namespace, settings.cache_configmap,
              {"data": {key: None}})
    return True
    # END SOLUTION


# ---------------------------------------------------------------------------- reconcile


def reconcile(api: KubeApi, namespace: str, name: str, settings: Settings,
              fetch: Fetch | None = None, now: float | None = None,
              emit: Callable[[dict[str, Any], str, str, str], None] | None = None,
              ) -> Outcome | None:
    """Bring the children of MLModel `namespace/name` to what its spec wants.

    Returns None when the MLModel is gone or being deleted. Raises `InvalidSpecError` after
    recording Degraded/InvalidSpec in status, `ChildKindMissingError` likewise, and lets
    `TransientApiError` through (the caller retries).
    """
    # BEGIN SOLUTION: GET, parse, cache, plan, adopt, apply, prune, status if changed
    now = time.time() if now is None else now
    body = api.get(KIND, namespace, name)
    if body is None or (body.get("metadata") or {}).get("deletionTimestamp"):
        return None
    meta = body["metadata"]
    generation = int(meta.get("generation") or 1)
    status = _owned_status(body.get("status"))
    outcome = Outcome(status=dict(status))

    def write_status(new: dict[str, Any]) -> None:
        outcome.status = new
        if new != status:
            api.patch(KIND, namespace, name, {"status": new}, subresource="status")
            outcome.status_written = True

    try:
        spec = parse_spec(body.get("spec"))
    except SpecError as exc:
        new = dict(status, observedGeneration=generation, conditions=conditions.merge_conditions(
            status.get("conditions"),
            [conditions.Condition(conditions.READY, False, "InvalidSpec", str(exc)),
             conditions.Condition(conditions.PROGRESSING, False, "InvalidSpec", ""),
             conditions.Condition(conditions.DEGRADED, True, "InvalidSpec", str(exc))],
            generation))
        write_status(new)
        raise InvalidSpecError(exc) from exc

    verb = ensure_cache_entry(api, settings, namespace, name, spec.predictor.uri)
    if verb:
        outcome.actions.append(ChildAction(verb, f"ModelCacheEntry/{namespace}.{name}"))

    traffic, state, action = plan_traffic(api, namespace, name, spec, status, fetch,
                                          settings, now)
    outcome.rollout_action = action
    desired = builders.build_children(name, namespace, spec, traffic)
    kopf.adopt(desired, owner=body)  # type: ignore[arg-type]  # kopf reads a raw body too
    for child in desired:  # kopf.adopt copies the owner's labels; ours win
        child["metadata"]["labels"][LABEL_MODEL] = name
    live_by_key: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for child in desired:
        key = builders.child_key(child)
        try:
            done, live = apply_child(api, child, always_patch=not settings.diff_before_write)
        except MissingKindError as exc:
            missing.append(f"{key}: {exc}")
            continue
        live_by_key[key] = live
        if done:
            outcome.actions.append(ChildAction(done, key))
            if emit:
                emit(body, "Normal", done, f"{done} {key}")
    wanted_keys = {builders.child_key(c) for c in desired}
    for key in sorted(set(status.get("children") or []) - wanted_keys):
        kind, child_name = key.split("/", 1)
        if api.delete(kind, namespace, child_name):
            outcome.actions.append(ChildAction("Deleted", key))
            if emit:
                emit(body, "Normal", "Deleted", f"Deleted {key}")

    stable_live = live_by_key.get(
        f"Deployment/{builders.deployment_name(name, traffic.stable_slot)}")
    conds = _conditions(spec, traffic, stable_live, state)
    if missing:
        conds[2] = conditions.Condition(conditions.DEGRADED, True, "ChildKindMissing",
                                        "; ".join(missing))
    stable_status = (stable_live or {}).get("status") or {}
    new = {
        "observedGeneration": generation,
        "conditions": conditions.merge_conditions(status.get("conditions"), conds, generation),
        "stableSlot": traffic.stable_slot,
        "stableRevision": traffic.stable.revision,
        "replicas": int(stable_status.get("replicas") or 0),
        "readyReplicas": int(stable_status.get("readyReplicas") or 0),
        "selector": f"{LABEL_MODEL}={name},{builders.LABEL_SLOT}={traffic.stable_slot}",
        "endpoint": f"http://{name}.{namespace}.svc.cluster.local",
        "children": sorted(wanted_keys - {m.split(':', 1)[0] for m in missing}),
    }
    if state is not None:
        new["rollout"] = state.to_status()
    if "cleanup" in status:
        new["cleanup"] = status["cleanup"]
    if emit and action in (rollout.Action.START, rollout.Action.ADVANCE,
                           rollout.Action.PROMOTE, rollout.Action.ROLLBACK) and state:
        emit(body, "Warning" if action is rollout.Action.ROLLBACK else "Normal",
             f"Canary{action.value.capitalize()}", state.message)
    write_status(new)
    if missing:
        raise ChildKindMissingError("; ".join(missing))
    return outcome
    # END SOLUTION
