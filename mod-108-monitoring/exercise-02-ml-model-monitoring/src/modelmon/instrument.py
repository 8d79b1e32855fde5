"""Instrumentation for model services: Prometheus metrics that know about models.

    metrics = ModelMetrics(registry, guard=CardinalityGuard({"model": {"churn"}}))
    app.add_middleware(PrometheusMiddleware, metrics=metrics)
    ...
    metrics.observe_prediction("churn", "v1", prediction=1, confidence=0.93,
                               features={"f0": 0.2})

Every label value passes through a `CardinalityGuard`: values outside an allow-list, or beyond
the first `max_values` distinct ones, become "__other__". A client that sends a million model
names therefore adds one series, not a million (Prometheus' memory is per series).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, Summary
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OTHER = "__other__"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONFIDENCE_BUCKETS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
STATE_MODEL = "modelmon_model"
STATE_VERSION = "modelmon_version"
P = ParamSpec("P")
R = TypeVar("R")


class CardinalityGuard:
    """Maps label values to a bounded set: allow-listed, or the first `max_values` seen."""

    def __init__(self, allowed: Mapping[str, Iterable[str]] | None = None,
                 max_values: int = 20) -> None:
        self.allowed = {k: frozenset(v) for k, v in (allowed or {}).items()}
        self.max_values = max_values
        self._seen: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self.overflow: dict[str, int] = {}

    def __call__(self, label: str, value: str) -> str:
        # BEGIN SOLUTION: allow-list, else the first max_values seen; the rest is OTHER
        allowed = self.allowed.get(label)
        if allowed is not None:
            if value in allowed:
                return value
            self._count_overflow(label)
            return OTHER
        with self._lock:
            seen = self._seen.setdefault(label, set())
            if value in seen:
                return value
            if len(seen) < self.max_values:
                seen.add(value)
                return value
        self._count_overflow(label)
        return OTHER
        # END SOLUTION

    def _count_overflow(self, label: str) -> None:
        with self._lock:
            self.overflow[label] = self.overflow.get(label, 0) + 1


def outcome_of(status: int) -> str:
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "success"


class ModelMetrics:
    """The metric families of an instrumented model service (one registry per service)."""

    def __init__(self, registry: CollectorRegistry | None = None,
                 guard: CardinalityGuard | None = None, prefix: str = "modelmon") -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.guard = guard or CardinalityGuard()
        mv = ["model", "version"]
        self.latency = Histogram(f"{prefix}_request_latency_seconds",
                                 "Request latency per model version and route",
                                 [*mv, "route"], buckets=LATENCY_BUCKETS,
                                 registry=self.registry)
        self.requests = Counter(f"{prefix}_requests", "Requests by outcome",
                                [*mv, "outcome"], registry=self.registry)
        self.predictions = Counter(f"{prefix}_predictions", "Predicted classes",
                                   [*mv, "class"], registry=self.registry)
        self.prediction_value = Histogram(f"{prefix}_prediction_value",
                                          "Predicted values (regression models)", mv,
                                          registry=self.registry)
        self.confidence = Histogram(f"{prefix}_prediction_confidence",
                                    "Confidence of the predicted class", mv,
                                    buckets=CONFIDENCE_BUCKETS, registry=self.registry)
        self.features = Summary(f"{prefix}_feature_value", "Feature values seen in requests",
                                [*mv, "feature"], registry=self.registry)
        self.missing_features = Counter(f"{prefix}_feature_missing",
                                        "Requests with a feature missing or null",
                                        [*mv, "feature"], registry=self.registry)
        self.overflow = Counter(f"{prefix}_label_overflow",
                                "Label values bucketed into __other__ by the cardinality guard",
                                ["label"], registry=self.registry)
        # hot-path caches: raw label values -> metric children, filled only with values the
        # guard accepted (an accepted value stays accepted), so "__other__" is still counted
        # on every call; bounded because the guard bounds every label
        self._request_children: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}
        self._model_labels: dict[tuple[str, str], tuple[str, str]] = {}
        self._confidence_children: dict[tuple[str, str], Any] = {}
        self._class_children: dict[tuple[str, str, str], Any] = {}
        self._feature_children: dict[tuple[str, str, str], list[Any]] = {}

    def _g(self, label: str, value: str) -> str:
        guarded = self.guard(label, value)
        if guarded == OTHER and value != OTHER:
            self.overflow.labels(label).inc()
        return guarded

    def register_model(self, model: str, version: str,
                       routes: Iterable[str] = ()) -> None:
        """Create the request series of a model version at zero, before any request.

        Call it at start-up for every version the service serves: a labelled series only
        exists once it has been touched, so without this a version that never gets a request
        (after a deploy or a restart) has no series at all and `rate(...) == 0` cannot fire.
        """
        # BEGIN SOLUTION: touch the request counter per outcome and the latency per route
        m, v = self._g("model", model), self._g("version", version)
        for outcome in ("success", "client_error", "server_error"):
            self.requests.labels(m, v, outcome)
        for route in routes:
            self.latency.labels(m, v, self._g("route", route))
        # END SOLUTION

    def observe_request(self, model: str, version: str, route: str, seconds: float,
                        outcome: str) -> None:
        key = (model, version, route, outcome)
        children = self._request_children.get(key)
        if children is None:
            m, v, r = self._g("model", model), self._g("version", version), self._g("route", route)
            children = (self.latency.labels(m, v, r), self.requests.labels(m, v, outcome))
            if OTHER not in (m, v, r):
                self._request_children[key] = children
        children[0].observe(seconds)
        children[1].inc()

    def observe_prediction(self, model: str, version: str, prediction: float | int | str,
                           confidence: float | None = None,
                           features: Mapping[str, float | None] | None = None,
                           task: str = "classification") -> None:
        # BEGIN SOLUTION: guarded labels: class or value, confidence, features
        # (children cached per accepted raw value: the guard and .labels() run once per value)
        mv = self._model_labels.get((model, version))
        if mv is None:
            mv = (self._g("model", model), self._g("version", version))
            if OTHER not in mv:
                self._model_labels[(model, version)] = mv
        m, v = mv
        if task == "regression":
            self.prediction_value.labels(m, v).observe(float(prediction))
        else:
            label = str(prediction)
            class_child = self._class_children.get((model, version, label))
            if class_child is None:
                cls = self._g("class", label)
                class_child = self.predictions.labels(m, v, cls)
                if OTHER not in (m, v, cls):
                    self._class_children[(model, version, label)] = class_child
            class_child.inc()
        if confidence is not None:
            confidence_child = self._confidence_children.get(mv)
            if confidence_child is None:
                confidence_child = self._confidence_children[mv] = self.confidence.labels(m, v)
            confidence_child.observe(confidence)
        for name, value in (features or {}).items():
            # [guarded feature, value summary, missing counter]; children made on first use
            slot = self._feature_children.get((model, version, name))
            if slot is None:
                slot = [self._g("feature", name), None, None]
                if OTHER not in (m, v, slot[0]):
                    self._feature_children[(model, version, name)] = slot
            if value is None:
                if slot[2] is None:
                    slot[2] = self.missing_features.labels(m, v, slot[0])
                slot[2].inc()
            else:
                if slot[1] is None:
                    slot[1] = self.features.labels(m, v, slot[0])
                slot[1].observe(value)
        # END SOLUTION

    def instrument(self, model: str, version: str, route: str = "call",
                   task: str = "classification"
                   ) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
        """Decorator for async prediction functions outside HTTP (batch jobs, consumers).

        Times every call, counts it by outcome (an exception is a server_error) and, when the
        result is a `Prediction`, records its class, confidence and features.
        """

        # BEGIN SOLUTION: decorator: time it, count the outcome, record a Prediction
        def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
            @functools.wraps(fn)
            async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                started = time.perf_counter()
                outcome = "server_error"
                try:
                    result = await fn(*args, **kwargs)
                    outcome = "success"
                finally:
                    self.observe_request(model, version, route,
                                         time.perf_counter() - started, outcome)
                if isinstance(result, Prediction):
                    self.observe_prediction(model, version, result.prediction,
                                            result.confidence, result.features, task)
                return result

            return wrapper

        return decorate
        # END SOLUTION


@dataclass(frozen=True)
class Prediction:
    """What an instrumented prediction function returns."""

    prediction: float | int | str
    confidence: float | None = None
    features: Mapping[str, float | None] | None = None


class PrometheusMiddleware:
    """ASGI middleware: latency and outcome of every request, labelled by model and version.

    The handler names the model by setting `request.state.modelmon_model` / `_version`
    (see `tag_request`); otherwise the `model` path parameter or `default_model` is used.
    Routes are labelled by their template (`/models/{model}/predict`), not the raw path.
    """

    def __init__(self, app: ASGIApp, metrics: ModelMetrics, default_model: str = "unknown",
                 default_version: str = "unknown",
                 skip_paths: Iterable[str] = ("/metrics", "/healthz")) -> None:
        self.app = app
        self.metrics = metrics
        self.default_model = default_model
        self.default_version = default_version
        self.skip_paths = frozenset(skip_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # BEGIN SOLUTION: time each HTTP request; label model, version, route template
        if scope["type"] != "http" or scope["path"] in self.skip_paths:
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            status = 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            state = scope.get("state") or {}
            params = scope.get("path_params") or {}
            model = str(state.get(STATE_MODEL) or params.get("model") or self.default_model)
            version = str(state.get(STATE_VERSION) or self.default_version)
            route = scope.get("route")
            route_name = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(model, version, route_name, elapsed,
                                         outcome_of(status))
        # END SOLUTION


def tag_request(request: Any, model: str, version: str) -> None:
    """Name the model version a request was served by (read back by the middleware)."""
    setattr(request.state, STATE_MODEL, model)
    setattr(request.state, STATE_VERSION, version)
