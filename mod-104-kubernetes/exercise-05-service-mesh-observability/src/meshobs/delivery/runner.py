"""The rollout loop: the only part of delivery that does I/O, through three ports.

`MetricsSource` (Prometheus), `Router` (HAProxy weights, or anything that can move traffic)
and `WebhookCaller`; a `StatusSink` records every step (status file, log, metrics). Whatever
goes wrong - Prometheus down, the router refusing a weight - the rollout ends in a recorded
state with a reason; it never stops half-shifted silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from meshobs.delivery import analysis
from meshobs.delivery.analysis import CheckResult, RolloutState
from meshobs.delivery.compare import compare_samples
from meshobs.delivery.spec import CanarySpec, Webhook
from meshobs.delivery.templates import COMPARISON, QueryContext, render_query
from meshobs.errors import MeshobsError
from meshobs.spec import MeshSpec, duration_seconds

log = logging.getLogger("meshobs.rollout")


class MetricsSource(Protocol):
    def instant(self, query: str) -> float | None: ...

    def samples(self, query: str, window_seconds: float, step_seconds: float
                ) -> list[float]: ...


class Router(Protocol):
    def set_weights(self, weights: dict[str, int]) -> None: ...


class WebhookCaller(Protocol):
    def call(self, webhook: Webhook, payload: dict[str, Any]) -> tuple[bool, str]: ...


class StatusSink(Protocol):
    def record(self, spec: CanarySpec, state: RolloutState,
               weights: dict[str, int]) -> None: ...


class Rollout:
    """Runs one CanarySpec to Succeeded or Failed."""

    def __init__(self, spec: CanarySpec, mesh: MeshSpec, metrics: MetricsSource,
                 router: Router, webhooks: WebhookCaller, sinks: Sequence[StatusSink] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.spec = spec
        self.mesh = mesh
        self.metrics = metrics
        self.router = router
        self.webhooks = webhooks
        self.sinks = list(sinks)
        self.sleep = sleep
        self.checks = spec.checks(mesh)

    # ----------------------------------------------------------------- measuring

    def _context(self, version: str, interval: str) -> QueryContext:
        return QueryContext(service=self.spec.service, version=version,
                            namespace=self.mesh.namespace, interval=interval)

    def measure(self) -> list[CheckResult]:
        """Run every check once against the canary version."""
        results = []
        for check in self.checks:
            query = render_query(self.spec.provider, check.template, check.query,
                                 self._context(self.spec.canary, check.interval))
            try:
                value = self.metrics.instant(query)
            except MeshobsError as exc:
                results.append(analysis.evaluate(check, query, None, error=str(exc)))
                continue
            results.append(analysis.evaluate(check, query, value))
        if self.spec.comparison.enabled and self.spec.primary is not None:
            results.append(self._compare())
        return results

    def _compare(self) -> CheckResult:
        cmp = self.spec.comparison
        window = duration_seconds(cmp.window)
        step = duration_seconds(cmp.step)
        interval = self.checks[0].interval if self.checks else "5s"
        template = COMPARISON[cmp.metric]
        assert self.spec.primary is not None
        queries = {role: template.format(service=self.spec.service, version=version,
                                         interval=interval)
                   for role, version in (("canary", self.spec.canary),
                                         ("primary", self.spec.primary))}
        name = f"compare-{cmp.metric}"
        try:
            canary = self.metrics.samples(queries["canary"], window, step)
            primary = self.metrics.samples(queries["primary"], window, step)
        except MeshobsError as exc:
            return CheckResult(name, queries["canary"], None, f"p >= {cmp.alpha:g}", "error",
                               str(exc))
        return compare_samples(name, queries["canary"], canary, primary, cmp.alpha,
                               cmp.min_samples)

    def _webhooks(self, kind: str, state: RolloutState) -> list[CheckResult]:
        results = []
        for hook in self.spec.webhooks:
            if hook.type != kind:
                continue
            payload = {"name": self.spec.service, "namespace": self.mesh.namespace,
                       "phase": state.phase, "type": kind, "canary": self.spec.canary,
                       "canaryWeight": state.canary_weight, "metadata": hook.metadata}
            ok, message = self.webhooks.call(hook, payload)
            log.info("webhook %s (%s): %s", hook.name, kind, message)
            results.append(CheckResult(f"webhook-{hook.name}", hook.url, 1.0 if ok else 0.0,
                                       "2xx", "pass" if ok else "fail", message))
        return results

    # ----------------------------------------------------------------- driving

    def _apply(self, state: RolloutState) -> RolloutState:
        weights = analysis.weights_for(self.spec, state)
        try:
            self.router.set_weights(weights)
        except MeshobsError as exc:
            reason = f"could not set weights {weights}: {exc}"
            restored = self._restore_primary()
            state = analysis.abort(state, f"{reason}; {restored}",
                                   0 if restored.startswith("restored") else state.canary_weight)
            weights = analysis.weights_for(self.spec, state)
        self._record(state, weights)
        return state

    def _restore_primary(self) -> str:
        if self.spec.primary is None:
            return "no primary to restore"
        try:
            self.router.set_weights({self.spec.primary: 100, self.spec.canary: 0})
        except MeshobsError as exc:
            return f"restoring the primary failed too ({exc}): weights unknown"
        return "restored the primary to 100%"

    def _record(self, state: RolloutState, weights: dict[str, int]) -> None:
        last = state.history[-1] if state.history else None
        if last is not None:
            for result in last.results:
                log.info("check %s", result.describe(), extra={"query": result.query})
            log.info("step %d: %s", last.iteration, last.message)
        for sink in self.sinks:
            sink.record(self.spec, state, weights)

    def _record_same(self, state: RolloutState) -> RolloutState:
        self._record(state, analysis.weights_for(self.spec, state))
        return state

    def run(self, on_step: Callable[[RolloutState], None] | None = None) -> RolloutState:
        """Drive the rollout to its end; `on_step` sees every intermediate state."""
        # BEGIN SOLUTION
        interval = duration_seconds(self.spec.interval)
        # Gate: pre-rollout webhooks must pass before the canary sees any user traffic.
        state = RolloutState(phase="Initializing",
                             canary_weight=100 if self.spec.first_deployment else 0)
        state = self._apply(state)
        while not state.done:
            gate = self._webhooks("pre-rollout", state)
            if all(r.passed for r in gate):
                break
            state = analysis.advance(self.spec, state, gate)
            state = self._apply(state) if state.done else self._record_same(state)
            if not state.done:
                self.sleep(interval)
        if state.done:
            return state
        start = analysis.initial_state(self.spec)
        state = replace(start, failed_checks=state.failed_checks, iteration=state.iteration,
                        history=state.history)
        state = self._apply(state)
        while not state.done:
            self.sleep(interval)
            self._webhooks("load-test", state)
            results = self.measure()
            previous = state.canary_weight
            state = analysis.advance(self.spec, state, results)
            if state.canary_weight != previous or state.done:
                state = self._apply(state)
            else:
                state = self._record_same(state)
            if on_step is not None:
                on_step(state)
        self._webhooks("post-rollout", state)
        return state
        # END SOLUTION
