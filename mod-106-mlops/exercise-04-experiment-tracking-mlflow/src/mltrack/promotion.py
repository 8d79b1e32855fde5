"""Gated promotion, rollback and champion history.

`promote` evaluates a candidate version against the current champion on the held-out split,
as a tracked MLflow run, and moves the `champion` alias only when every gate passes. Every
decision, pass or fail, is written three ways: model-version tags (who, when, why, metrics,
previous champion), a history event on the registered model (alias moves only) and a line in
the append-only audit log.

Promotions and rollbacks of one model are serialised by a lock on the tracking server
(`mltrack.locking`), and everything from reading the champion to moving it happens under it.
The history event is the commit record: it is written first, then the alias follows it. A
process that dies between the two leaves history ahead of the alias; the next promotion or
rollback (under the lock) sees that and moves the alias to where history says (roll-forward),
so rollback always walks the recorded chain.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import mlflow
from mlflow.data.pandas_dataset import from_pandas

from mltrack import history as hist
from mltrack import locking
from mltrack.adapters.mlflow_server import Tracker
from mltrack.audit import AuditLog, server_tag
from mltrack.config import Settings
from mltrack.data import TARGET, load_dataset
from mltrack.errors import ConflictError
from mltrack.gates import (
    GateReport,
    Schema,
    bootstrap_difference,
    evaluate_gates,
    signature_compatibility,
)
from mltrack.metrics import classification_metrics, measure_latency_ms, to_labels
from mltrack.training import dataset_source

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass
class Evaluation:
    metrics: dict[str, float] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    predicted: Any = None  # held-out labels, for the paired bootstrap (not recorded)


@dataclass
class Decision:
    model: str
    candidate: str
    previous_champion: str | None
    promoted: bool
    report: GateReport
    candidate_eval: Evaluation
    champion_eval: Evaluation | None
    eval_run_id: str
    at: str
    by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "candidate": self.candidate,
            "previous_champion": self.previous_champion,
            "decision": "promoted" if self.promoted else "rejected",
            "reason": self.report.summary(), "gates": self.report.to_dict(),
            "candidate_metrics": self.candidate_eval.metrics,
            "candidate_latency": self.candidate_eval.latency,
            "champion_metrics": self.champion_eval.metrics if self.champion_eval else None,
            "eval_run_id": self.eval_run_id, "at": self.at, "by": self.by,
        }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _evaluate(tracker: Tracker, uri: str, features: Any, labels: Any,
              latency_samples: int | None) -> Evaluation:
    model = tracker.load_pyfunc(uri)
    predicted = to_labels(model.predict(features))
    evaluation = Evaluation(metrics=classification_metrics(labels, predicted),
                            predicted=predicted)
    if latency_samples:
        evaluation.latency = measure_latency_ms(model.predict, features, latency_samples)
    return evaluation


def audit(tracker: Tracker, settings: Settings, record: dict[str, Any]) -> None:
    """Store one audit record on the tracking server (shared), then in the local copy."""
    # BEGIN SOLUTION: registered-model tag first, then the local file
    tracker.set_model_tag(record["model"], *server_tag(record))
    AuditLog(settings.audit_log_path).append(record)
    # END SOLUTION


def _lock(tracker: Tracker, settings: Settings, name: str) -> Any:
    return locking.model_lock(tracker, name, wait_s=settings.lock_wait_s,
                              lease_s=settings.lock_lease_s)


def reconcile(tracker: Tracker, settings: Settings, name: str) -> list[hist.HistoryEvent]:
    """History events of `name`, after moving `champion` to the last one if it lags behind.

    Call only under the model's lock. History is written before the alias moves, so an alias
    that disagrees with the last event means a promotion or rollback died in between.
    """
    # BEGIN SOLUTION: roll the alias forward to the last recorded event
    events = hist.events_from_tags(dict(tracker.registered_model(name).tags))
    if not events:
        return events
    current = dict(tracker.registered_model(name).aliases).get(CHAMPION)
    last = events[-1]
    if current is None or str(current) != last.version:
        tracker.set_alias(name, CHAMPION, last.version)
        audit(tracker, settings, {
            "event": "repair", "model": name, "from": None if current is None else str(current),
            "to": last.version, "at": now_iso(), "by": settings.who,
            "reason": f"champion alias behind history event {last.seq} ({last.action})",
            "tracking_uri": tracker.uri,
        })
    return events
    # END SOLUTION


def promote(tracker: Tracker, settings: Settings, name: str, candidate: str,
            reason: str | None = None) -> Decision:
    """Evaluate `candidate` and move `champion` to it if every gate passes."""
    # BEGIN SOLUTION: under the lock: gated evaluation run, history then alias, record
    version = tracker.version(name, candidate)  # NotFound before any work
    with _lock(tracker, settings, name):
        return _promote_locked(tracker, settings, name, str(version.version), reason)
    # END SOLUTION


def _promote_locked(tracker: Tracker, settings: Settings, name: str, candidate: str,
                    reason: str | None) -> Decision:
    # BEGIN SOLUTION: gated evaluation run, history event then alias move on pass
    gates = settings.gates
    events = reconcile(tracker, settings, name)
    champion = tracker.alias_version(name, CHAMPION)
    previous = str(champion.version) if champion is not None else None
    if previous == candidate:
        raise ConflictError(f"version {candidate} of {name!r} is already the champion")

    holdout = load_dataset().holdout
    candidate_uri = f"models:/{name}/{candidate}"
    reference: Schema
    if champion is not None:
        reference = tracker.input_schema(f"models:/{name}/{previous}") or []
    else:
        reference = [(str(col), "double") for col in holdout.features.columns]
    signature = signature_compatibility(tracker.input_schema(candidate_uri), reference)

    tracker.ensure_experiment(settings.promotions_experiment)
    mlflow.set_experiment(settings.promotions_experiment)
    by, at = settings.who, now_iso()
    with mlflow.start_run(run_name=f"promote-{name}-v{candidate}", tags={
        "mltrack.model": name, "mltrack.candidate": candidate,
        "mltrack.champion": previous or "none", "mltrack.by": by,
    }) as run:
        mlflow.log_input(from_pandas(holdout.frame(), source=dataset_source(),
                                                 targets=TARGET, name="breast-cancer-holdout"),
                         context="evaluation")
        mlflow.log_params({"candidate_version": candidate,
                           "champion_version": previous or "none",
                           "gates": gates.model_dump_json()})
        cand_eval, champ_eval = Evaluation(), None
        if signature[0] or not gates.require_signature_match:
            cand_eval = _evaluate(tracker, candidate_uri, holdout.features, holdout.labels,
                                  gates.latency_samples)
            if champion is not None:
                champ_eval = _evaluate(tracker, f"models:/{name}/{previous}",
                                       holdout.features, holdout.labels, None)
        difference = None
        if champ_eval is not None:
            difference = bootstrap_difference(
                gates.primary_metric, holdout.labels, cand_eval.predicted,
                champ_eval.predicted, samples=gates.bootstrap_samples,
                confidence=gates.confidence, seed=gates.bootstrap_seed)
            mlflow.log_metrics({f"diff_{gates.primary_metric}": difference.point,
                                f"diff_{gates.primary_metric}_ci_low": difference.low,
                                f"diff_{gates.primary_metric}_ci_high": difference.high})
        report = evaluate_gates(
            gates, cand_eval.metrics, champ_eval.metrics if champ_eval else None,
            cand_eval.latency.get("p95_ms"), signature, difference)
        mlflow.log_metrics({**{f"candidate_{k}": v for k, v in cand_eval.metrics.items()},
                            **{f"candidate_latency_{k}": v for k, v in cand_eval.latency.items()},
                            **{f"champion_{k}": v for k, v in
                               (champ_eval.metrics if champ_eval else {}).items()}})
        mlflow.log_dict(report.to_dict(), "gate_report.json")
        mlflow.set_tags({"mltrack.decision": "promoted" if report.passed else "rejected",
                         "mltrack.reason": report.summary()[:4000]})
    decision = Decision(name, candidate, previous, report.passed, report, cand_eval,
                        champ_eval, run.info.run_id, at, by)

    if report.passed:
        event = hist.HistoryEvent(hist.next_seq(events), "promote", candidate, previous, at,
                                  by, reason or report.summary(), run.info.run_id)
        tracker.set_model_tag(name, *event.tag())  # the commit record, then the alias
        tracker.set_alias(name, CHAMPION, candidate)
        challenger = tracker.alias_version(name, CHALLENGER)
        if challenger is not None and str(challenger.version) == candidate:
            tracker.delete_alias(name, CHALLENGER)
    _record(tracker, settings, decision, reason)
    return decision
    # END SOLUTION


def _record(tracker: Tracker, settings: Settings, decision: Decision,
            reason: str | None) -> None:
    """Model-version tags and the audit log line for one decision."""
    # BEGIN SOLUTION: decision tags on the version and an audit line
    outcome = "promoted" if decision.promoted else "rejected"
    why = reason or decision.report.summary()
    tags = {
        "mltrack.decision": outcome,
        "mltrack.decided_at": decision.at,
        "mltrack.decided_by": decision.by,
        "mltrack.reason": why[:4000],
        "mltrack.previous_champion": decision.previous_champion or "none",
        "mltrack.eval_run_id": decision.eval_run_id,
        "mltrack.holdout_metrics": json.dumps(decision.candidate_eval.metrics, sort_keys=True),
    }
    if decision.promoted:
        tags["mltrack.promoted_at"] = decision.at
    tracker.set_version_tags(decision.model, decision.candidate, tags)
    audit(tracker, settings, {
        "event": f"promotion.{outcome}", **decision.to_dict(), "reason": why,
        "tracking_uri": tracker.uri,
    })
    # END SOLUTION


def rollback(tracker: Tracker, settings: Settings, name: str,
             reason: str | None = None) -> hist.HistoryEvent:
    """Point `champion` back at the version the current champion replaced."""
    # BEGIN SOLUTION: under the lock: history event then alias, tags and audit
    tracker.registered_model(name)  # NotFound before taking the lock
    with _lock(tracker, settings, name):
        return _rollback_locked(tracker, settings, name, reason)
    # END SOLUTION


def _rollback_locked(tracker: Tracker, settings: Settings, name: str,
                     reason: str | None) -> hist.HistoryEvent:
    # BEGIN SOLUTION: move champion back, history first, then tags and audit
    events = reconcile(tracker, settings, name)
    current = tracker.alias_version(name, CHAMPION)
    if current is None:
        raise ConflictError(f"model {name!r} has no champion to roll back")
    target = hist.rollback_target(events, str(current.version))
    if target is None:
        raise ConflictError(f"model {name!r}: champion v{current.version} has no previous "
                            "champion to roll back to")
    tracker.version(name, target)
    by, at = settings.who, now_iso()
    why = reason or f"rollback from v{current.version}"
    event = hist.HistoryEvent(hist.next_seq(events), "rollback", target,
                              str(current.version), at, by, why)
    tracker.set_model_tag(name, *event.tag())  # the commit record, then the alias
    tracker.set_alias(name, CHAMPION, target)
    tracker.set_version_tags(name, str(current.version), {
        "mltrack.rolled_back_at": at, "mltrack.rolled_back_by": by, "mltrack.reason": why})
    tracker.set_version_tags(name, target, {"mltrack.restored_at": at})
    audit(tracker, settings, {
        "event": "rollback", "model": name, "from": str(current.version), "to": target,
        "at": at, "by": by, "reason": why, "tracking_uri": tracker.uri,
    })
    return event
    # END SOLUTION


def audit_records(tracker: Tracker, model: str | None = None) -> list[dict[str, Any]]:
    """The shared audit records of `model` (or of every model), oldest first."""
    # BEGIN SOLUTION: decode audit tags of one model or of all, merged by time
    from mltrack.audit import records_from_tags

    models = [tracker.registered_model(model)] if model else tracker.all_registered_models()
    records = [record for found in models for record in records_from_tags(dict(found.tags))]
    return sorted(records, key=lambda record: str(record.get("at", "")))
    # END SOLUTION


def champion_history(tracker: Tracker, name: str) -> list[hist.ChampionInterval]:
    events = hist.events_from_tags(dict(tracker.registered_model(name).tags))
    return hist.timeline(events)


def predict(tracker: Tracker, name: str, alias: str, rows: int) -> dict[str, Any]:
    """Load `models:/NAME@ALIAS` and predict the first `rows` held-out rows."""
    version = tracker.require_alias(name, alias)
    holdout = load_dataset().holdout
    model = tracker.load_pyfunc(f"models:/{name}@{alias}")
    start = time.perf_counter()
    labels = to_labels(model.predict(holdout.features.head(rows)))
    return {"model": name, "alias": alias, "version": str(version.version),
            "predictions": [int(v) for v in labels],
            "truth": [int(v) for v in holdout.labels.head(rows)],
            "seconds": time.perf_counter() - start}
