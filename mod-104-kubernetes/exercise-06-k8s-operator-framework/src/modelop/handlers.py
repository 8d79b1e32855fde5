"""kopf wiring: which events call what, and how failures map to kopf's retry semantics.

Thin on purpose: create/update/resume and the resync timer all call `reconcile.reconcile`;
the finalizer calls `remove_cache_entry`; the webhooks call `spec.parse_spec` and
`spec.defaults_patch`. Run with `modelop run` (or `kopf run -m modelop.handlers -A`).

- `kopf.TemporaryError` (retried with exponential backoff): conflicts, throttling, 5xx,
  a child kind that is not served yet, a cleanup that failed.
- `kopf.PermanentError` (no retry until the spec changes): an invalid spec, already recorded
  as Degraded/InvalidSpec in status.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kopf
from prometheus_client import start_http_server

from modelop import metrics
from modelop.adapters.kube import ApiError, KubeApi, TransientApiError
from modelop.adapters.prometheus import Prometheus, PrometheusError
from modelop.config import Settings
from modelop.reconcile import (
    ChildKindMissingError,
    InvalidSpecError,
    reconcile,
    remove_cache_entry,
)
from modelop.spec import GROUP, PLURAL, VERSION, SpecError, defaults_patch, parse_spec

log = logging.getLogger(__name__)
_config_file = os.environ.get("MODELOP_CONFIG_FILE")
SETTINGS = Settings.load(Path(_config_file) if _config_file else None)
RESOURCE = (GROUP, VERSION, PLURAL)
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_state: dict[str, Any] = {}


def configure(settings: Settings) -> None:
    """Replace the settings (the benchmark switches diff-before-write this way)."""
    global SETTINGS
    SETTINGS = settings
    _state.pop("api", None)


def _api() -> KubeApi:
    if "api" not in _state:
        _state["api"] = KubeApi.from_kubeconfig()
    api: KubeApi = _state["api"]
    return api


def _lock(uid: str) -> threading.Lock:
    """One reconcile per object at a time: kopf runs the timer next to change handlers."""
    with _locks_guard:
        return _locks.setdefault(uid, threading.Lock())


def _fetch() -> Callable[[str], float | None] | None:
    if not SETTINGS.prometheus_url:
        return None
    prom = Prometheus(SETTINGS.prometheus_url)

    def fetch(query: str) -> float | None:
        try:
            return prom.query(query)
        except PrometheusError as exc:
            log.warning("gate query failed, treated as no data: %s", exc)
            return None

    return fetch


def _emit(body: dict[str, Any], kind: str, reason: str, message: str) -> None:
    event = kopf.warn if kind == "Warning" else kopf.info
    event(body, reason=reason, message=message)  # type: ignore[arg-type]  # a raw body works


def _backoff(retry: int) -> float:
    return float(min(2 ** retry, 60))


@kopf.on.startup()
def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Operator-wide settings: progress in annotations (status belongs to us), events from
    INFO, the webhook server, and the metrics endpoint."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix="modelop.aiinfra.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="modelop.aiinfra.dev", key="last-handled-configuration")
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    hook = SETTINGS.webhook
    if hook.enabled:
        settings.admission.server = kopf.WebhookServer(
            addr=hook.addr, host=hook.host, port=hook.port, insecure=hook.insecure,
            certfile=hook.certfile, pkeyfile=hook.pkeyfile)
        settings.admission.managed = hook.managed
    if SETTINGS.metrics_port and "metrics" not in _state:
        server, _thread = start_http_server(SETTINGS.metrics_port, addr=SETTINGS.metrics_addr)
        _state["metrics"] = server


@kopf.on.cleanup()
def cleanup(**_: Any) -> None:
    server = _state.pop("metrics", None)
    if server is not None:
        server.shutdown()
    _state.pop("api", None)


def _run(trigger: str, namespace: str, name: str, uid: str, retry: int) -> None:
    started = time.perf_counter()
    api = _api()
    writes_before = api.writes
    try:
        with _lock(uid):
            outcome = reconcile(api, namespace, name, SETTINGS, fetch=_fetch(), emit=_emit)
    except InvalidSpecError as exc:
        metrics.RECONCILES.labels(trigger, "invalid").inc()
        metrics.ERRORS.labels("InvalidSpec").inc()
        if trigger == "timer":
            return  # already Degraded; the timer must not spam the same error
        raise kopf.PermanentError(f"invalid spec: {exc}") from exc
    except ChildKindMissingError as exc:
        metrics.RECONCILES.labels(trigger, "error").inc()
        metrics.ERRORS.labels("ChildKindMissing").inc()
        raise kopf.TemporaryError(str(exc), delay=_backoff(retry)) from exc
    except TransientApiError as exc:
        metrics.RECONCILES.labels(trigger, "retry").inc()
        metrics.ERRORS.labels(f"Http{exc.status}").inc()
        raise kopf.TemporaryError(f"will retry: {exc}", delay=_backoff(retry)) from exc
    except ApiError as exc:
        metrics.RECONCILES.labels(trigger, "error").inc()
        metrics.ERRORS.labels(f"Http{exc.status}").inc()
        raise kopf.TemporaryError(str(exc), delay=_backoff(retry)) from exc
    finally:
        metrics.DURATION.labels(trigger).observe(time.perf_counter() - started)
    metrics.RECONCILES.labels(trigger, "ok").inc()
    if outcome is None:
        return
    for action in outcome.actions:
        metrics.WRITES.labels(action.verb, action.key.split("/", 1)[0]).inc()
    if outcome.rollout_action is not None and outcome.rollout_action.value != "wait":
        metrics.ROLLOUTS.labels(outcome.rollout_action.value).inc()
    log.debug("%s %s/%s: %d API writes", trigger, namespace, name, api.writes - writes_before)


@kopf.on.create(*RESOURCE)
def on_create(namespace: str | None, name: str, uid: str, retry: int, **_: Any) -> None:
    _run("create", namespace or "default", name, uid, retry)


@kopf.on.update(*RESOURCE, field="spec")
def on_update(namespace: str | None, name: str, uid: str, retry: int, **_: Any) -> None:
    _run("update", namespace or "default", name, uid, retry)


@kopf.on.resume(*RESOURCE)
def on_resume(namespace: str | None, name: str, uid: str, retry: int, **_: Any) -> None:
    _run("resume", namespace or "default", name, uid, retry)


@kopf.timer(*RESOURCE, interval=SETTINGS.resync_seconds, initial_delay=SETTINGS.resync_seconds)
def resync(namespace: str | None, name: str, uid: str, **kwargs: Any) -> None:
    """Level-based repair: a child scaled, edited or deleted by hand is put back; the
    canary advances. Unchanged objects cost reads only."""
    _run("timer", namespace or "default", name, uid, int(kwargs.get("retry", 0)))


@kopf.on.delete(*RESOURCE)
def on_delete(namespace: str | None, name: str, body: kopf.Body, retry: int,
              **_: Any) -> None:
    """The finalizer: remove the model's cache entry before the MLModel goes. Children go
    by owner references (the garbage collector), so only external state is ours to clean.
    A failure keeps the finalizer, says why in status and in an Event, and retries."""
    # BEGIN SOLUTION: remove the entry; on ApiError: Event, status, TemporaryError
    api = _api()
    namespace = namespace or "default"
    try:
        removed = remove_cache_entry(api, SETTINGS, namespace, name)
    except ApiError as exc:
        metrics.CLEANUPS.labels("blocked").inc()
        message = f"cannot remove the model cache entry (attempt {retry + 1}): {exc}"
        kopf.warn(body, reason="CleanupBlocked", message=message)
        try:
            api.patch("MLModel", namespace, name,
                      {"status": {"cleanup": {"state": "Blocked", "message": message}}},
                      subresource="status")
        except ApiError as status_exc:
            log.warning("could not record the blocked cleanup: %s", status_exc)
        raise kopf.TemporaryError(message, delay=_backoff(retry)) from exc
    metrics.CLEANUPS.labels("removed" if removed else "absent").inc()
    kopf.info(body, reason="CleanedUp",
              message="model cache entry removed" if removed else "no cache entry to remove")
    # END SOLUTION


def validate(spec: kopf.Spec, **_: Any) -> None:
    """Reject what the reconciler would mark Degraded, with every reason in the message."""
    # BEGIN SOLUTION: SpecError -> kopf.AdmissionError(all problems, code=422)
    try:
        parse_spec(dict(spec))
    except SpecError as exc:
        raise kopf.AdmissionError("; ".join(exc.problems), code=422) from exc
    # END SOLUTION


def default(spec: kopf.Spec, patch: kopf.Patch, **_: Any) -> None:
    """Defaults the schema cannot express: the server image depends on the framework."""
    for key, value in defaults_patch(dict(spec)).items():
        patch.spec[key] = value


# kopf refuses to start when admission handlers exist but no webhook server is configured:
# register them only when the webhook is on (MODELOP_WEBHOOK__ENABLED / --webhook).
if SETTINGS.webhook.enabled:
    kopf.on.validate(*RESOURCE, id="validate-mlmodel", operations=["CREATE", "UPDATE"])(validate)
    kopf.on.mutate(*RESOURCE, id="default-mlmodel", operations=["CREATE", "UPDATE"])(default)
