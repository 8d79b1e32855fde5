"""Adapter for the MLflow tracking server and model registry.

Everything the rest of mltrack needs from MLflow goes through `Tracker`: it checks the server
is reachable first (so an outage is one clear line naming the URL, not minutes of silent
retries), bounds MLflow's own HTTP retries, retries transient failures with backoff, and turns
MLflow's error codes into mltrack's domain errors.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException, RestException

from mltrack.adapters.retry import call_with_retries
from mltrack.errors import NotFoundError, TrackingUnavailableError
from mltrack.gates import Schema

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_LIMIT = 1000  # MLflow's maximum metrics per log_batch call
CLIENT_TOKEN_TAG = "mltrack.client_token"  # noqa: S105 (a tag key: which call made a version)

_TRANSIENT_CODES = {"TEMPORARILY_UNAVAILABLE", "INTERNAL_ERROR", "REQUEST_LIMIT_EXCEEDED"}
_UNREACHABLE_HINTS = ("Max retries exceeded", "Connection refused", "Failed to establish",
                      "NewConnectionError", "ConnectionError", "Name or service not known",
                      "timed out", "Connection aborted", "RemoteDisconnected")


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: connection problems, timeouts, 5xx and rate limits."""
    # BEGIN SOLUTION: transport errors, timeouts, transient MLflow codes
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, RestException):
        return exc.error_code in _TRANSIENT_CODES
    if isinstance(exc, MlflowException):
        return any(hint in str(exc) for hint in _UNREACHABLE_HINTS)
    return isinstance(exc, ConnectionError | TimeoutError)
    # END SOLUTION


def _is_not_found(exc: BaseException) -> bool:
    if not isinstance(exc, MlflowException):
        return False
    code = getattr(exc, "error_code", "")
    return code == "RESOURCE_DOES_NOT_EXIST" or (
        code == "INVALID_PARAMETER_VALUE" and "not found" in str(exc)
    )


def configure_mlflow_http(retries: int, timeout_s: int) -> None:
    """Bound MLflow's own urllib3 retries (its default waits minutes on a dead server)."""
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(retries)
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(timeout_s)
    # Keep stdout for our own output (`--json` must stay parseable).
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_PRINT_MODEL_URLS_ON_CREATION", "false")


@contextlib.contextmanager
def _single_transport_attempt() -> Iterator[None]:
    """Switch off MLflow's own HTTP retries for one call.

    They retry every method, POST included, below `Tracker.call`: a lost answer to a create
    would be re-sent before mltrack could look for what the first attempt made.
    """
    key = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"
    before = os.environ.get(key)
    os.environ[key] = "0"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


class Tracker:
    """A checked connection to one tracking server."""

    def __init__(self, tracking_uri: str, *, retries: int = 3, backoff_s: float = 0.5,
                 timeout_s: int = 30, check: bool = True) -> None:
        self.uri = tracking_uri.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        configure_mlflow_http(retries, timeout_s)
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        if check:
            self.check_reachable()

    # ------------------------------------------------------------------ resilience

    def check_reachable(self) -> None:
        """GET /health with retries; raise a one-line error naming the URL when down."""
        # BEGIN SOLUTION: GET /health with retries, one-line error naming the URL
        url = f"{self.uri}/health"

        def probe() -> None:
            response = httpx.get(url, timeout=min(self.timeout_s, 5))
            if response.status_code >= 500:
                raise httpx.TransportError(f"HTTP {response.status_code}")
            response.raise_for_status()

        try:
            call_with_retries(probe, retries=self.retries, backoff_s=self.backoff_s,
                              is_transient=is_transient)
        except (httpx.HTTPError, OSError) as exc:
            raise TrackingUnavailableError(
                f"tracking server {self.uri} is unreachable after {self.retries + 1} "
                f"attempt(s) ({type(exc).__name__}: {exc}); start it with `mltrack server up` "
                "or set MLTRACK_TRACKING_URI"
            ) from exc
        # END SOLUTION

    def call(self, fn: Callable[[], T], what: str = "") -> T:
        """Run one MLflow call with retries; translate not-found and outage errors."""
        # BEGIN SOLUTION: retry fn, map not-found and outage errors
        try:
            return call_with_retries(fn, retries=self.retries, backoff_s=self.backoff_s,
                                     is_transient=is_transient)
        except MlflowException as exc:
            if _is_not_found(exc):
                raise NotFoundError(what or _first_line(exc.message)) from exc
            if is_transient(exc):
                raise TrackingUnavailableError(
                    f"tracking server {self.uri} failed{' to ' + what if what else ''}: "
                    f"{_first_line(str(exc))}"
                ) from exc
            raise
        # END SOLUTION

    # ------------------------------------------------------------------ tracking

    def ensure_experiment(self, name: str) -> str:
        experiment = self.call(lambda: self.client.get_experiment_by_name(name))
        if experiment is not None:
            return str(experiment.experiment_id)
        return str(self.call(lambda: self.client.create_experiment(name)))

    def experiment_id(self, name: str) -> str:
        experiment = self.call(lambda: self.client.get_experiment_by_name(name))
        if experiment is None:
            raise NotFoundError(f"experiment {name!r} not found on {self.uri}")
        return str(experiment.experiment_id)

    def log_metrics_batched(self, run_id: str, metrics: list[Metric]) -> int:
        """Log metrics in chunks of at most 1000 (MLflow's log_batch limit); return calls.

        Retrying a chunk is safe: each Metric carries its own timestamp, and the server keys
        metrics on (run, key, timestamp, step, value), so a re-sent chunk adds nothing.
        """
        # BEGIN SOLUTION: log_batch in chunks of BATCH_LIMIT, return calls
        calls = 0
        for start in range(0, len(metrics), BATCH_LIMIT):
            chunk = metrics[start:start + BATCH_LIMIT]
            self.call(functools.partial(self.client.log_batch, run_id, metrics=chunk))
            calls += 1
        return calls
        # END SOLUTION

    def search_runs(self, experiment: str, order_by: list[str] | None = None,
                    max_results: int = 1000) -> list[Run]:
        experiment_id = self.experiment_id(experiment)
        return list(self.call(lambda: self.client.search_runs(
            [experiment_id], filter_string="attributes.status = 'FINISHED'",
            order_by=order_by or ["attributes.start_time DESC"], max_results=max_results,
        )))

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        return list(self.call(lambda: self.client.get_metric_history(run_id, key)))

    # ------------------------------------------------------------------ registry

    def registered_model(self, name: str) -> Any:
        return self.call(lambda: self.client.get_registered_model(name),
                         f"registered model {name!r} not found")

    def version(self, name: str, version: str) -> ModelVersion:
        self.registered_model(name)
        return self.call(lambda: self.client.get_model_version(name, str(version)),
                         f"model {name!r} has no version {version}")

    def alias_version(self, name: str, alias: str) -> ModelVersion | None:
        """The version behind `alias`, or None when the alias is not set."""
        aliases = dict(self.registered_model(name).aliases)
        if alias not in aliases:
            return None
        return self.version(name, str(aliases[alias]))

    def require_alias(self, name: str, alias: str) -> ModelVersion:
        found = self.alias_version(name, alias)
        if found is None:
            raise NotFoundError(f"model {name!r} has no alias {alias!r}")
        return found

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.version(name, version)
        self.call(lambda: self.client.set_registered_model_alias(name, alias, str(version)))

    def delete_alias(self, name: str, alias: str) -> None:
        self.call(lambda: self.client.delete_registered_model_alias(name, alias))

    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self.call(functools.partial(self.client.set_model_version_tag, name, str(version),
                                        key, value))

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self.call(lambda: self.client.set_registered_model_tag(name, key, value))

    def try_create_model(self, name: str, tags: dict[str, str], description: str) -> bool:
        """Create registered model `name`; False when it already exists.

        The server's unique key on the name makes this an atomic create-if-absent: of two
        clients racing, exactly one gets True. mltrack builds its promotion lock on it.
        """
        # BEGIN SOLUTION: create, mapping RESOURCE_ALREADY_EXISTS to False
        try:
            self.call(lambda: self.client.create_registered_model(name, tags, description))
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_ALREADY_EXISTS":
                return False
            raise
        return True
        # END SOLUTION

    def find_model(self, name: str) -> Any | None:
        """The registered model `name`, or None when it does not exist."""
        try:
            return self.registered_model(name)
        except NotFoundError:
            return None

    def delete_model(self, name: str) -> None:
        """Delete registered model `name`; already gone is fine."""
        with contextlib.suppress(NotFoundError):
            self.call(lambda: self.client.delete_registered_model(name), name)

    def describe_version(self, name: str, version: str, description: str) -> None:
        self.call(lambda: self.client.update_model_version(name, str(version), description))

    def describe_model(self, name: str, description: str) -> None:
        self.call(lambda: self.client.update_registered_model(name, description))

    def register(self, model_uri: str, name: str, tags: dict[str, str] | None = None
                 ) -> ModelVersion:
        """Create the registered model if needed and add a version for `model_uri`.

        Idempotent under retries: the version carries a fresh client token (tag
        `mltrack.client_token`), and every attempt after the first looks the token up before
        creating anything, so an attempt whose answer was lost is found, not repeated.
        """
        # BEGIN SOLUTION: client token, look it up before re-creating
        token = uuid.uuid4().hex
        tagged = {**(tags or {}), CLIENT_TOKEN_TAG: token}
        attempts = 0

        def attempt() -> ModelVersion:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                found = self.client.search_model_versions(
                    f"name = '{name}' and tags.`{CLIENT_TOKEN_TAG}` = '{token}'")
                if found:
                    return found[0]
            with _single_transport_attempt():
                return mlflow.register_model(model_uri, name, tags=tagged)

        return self.call(attempt)
        # END SOLUTION

    def all_registered_models(self) -> list[Any]:
        """Every registered model on the server (follows pagination)."""
        found: list[Any] = []
        token: str | None = None
        while True:
            page = self.call(functools.partial(self.client.search_registered_models,
                                               max_results=1000, page_token=token))
            found.extend(page)
            token = page.token
            if not token:
                return found

    def versions(self, name: str) -> list[ModelVersion]:
        self.registered_model(name)
        found = self.call(lambda: self.client.search_model_versions(f"name = '{name}'"))
        return sorted(found, key=lambda mv: int(mv.version))

    # ------------------------------------------------------------------ models

    def load_pyfunc(self, uri: str) -> Any:
        model = self.call(lambda: mlflow.pyfunc.load_model(uri), f"model {uri} not found")
        if "keras" in (getattr(model.metadata, "flavors", None) or {}):
            # Keras' predict() draws a progress bar on stdout, which would corrupt the JSON
            # a `--json` command prints: route Keras' messages to its logger (stderr).
            import keras

            keras.utils.disable_interactive_logging()
        return model

    def input_schema(self, uri: str) -> Schema | None:
        """The model's input columns as (name, type) pairs; None without a signature."""
        info = self.call(lambda: mlflow.models.get_model_info(uri), f"model {uri} not found")
        if info.signature is None or info.signature.inputs is None:
            return None
        schema = info.signature.inputs
        if not schema.has_input_names():
            return [(f"tensor_{i}", _type_name(spec)) for i, spec in enumerate(schema.inputs)]
        return [(str(spec.name), _type_name(spec)) for spec in schema.inputs]


def _type_name(spec: Any) -> str:
    """'double' for a column spec, 'tensor(float32)' for a tensor spec."""
    kind = getattr(spec, "type", None)
    if kind is not None and hasattr(kind, "name"):
        return str(kind.name)
    return f"tensor({spec.type})" if kind is not None else str(spec)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
