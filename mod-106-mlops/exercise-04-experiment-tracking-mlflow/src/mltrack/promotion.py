"""Gated promotion, rollback and champion history.

`promote` evaluates a candidate version against the current champion on the held-out split,
as a tracked MLflow run, and moves the `champion` alias only when every gate passes. Every
decision, pass or fail, is written three ways: model-version tags (who, when, why, metrics,
previous champion), a history event on the registered model (alias moves only) and a line in
the append-only audit log.
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
from mltrack.adapters.mlflow_server import Tracker
from mltrack.audit import AuditLog
from mltrack.config import Settings
from mltrack.data import TARGET, load_dataset
from mltrack.errors import ConflictError
from mltrack.gates import GateReport, Schema, evaluate_gates, signature_compatibility
from mltrack.metrics import classification_metrics, measure_latency_ms, to_labels
from mltrack.training import dataset_source

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass
class Evaluation:
    metrics: dict[str, float] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)


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
    evaluation = Evaluation(metrics=classification_metrics(labels, predicted))
    if latency_samples:
        evaluation.latency = measure_latency_ms(model.predict, features, latency_samples)
    return evaluation


def promote(tracker: Tracker, settings: Settings, name: str, candidate: str,
            reason: str | None = None) -> Decision:
    """Evaluate `candidate` and move `champion` to it if every gate passes."""
    # BEGIN SOLUTION: gated evaluation run, move champion on pass, record decision
    gates = settings.gates
    version = tracker.version(name, candidate)  # NotFound before any work
    candidate = str(version.version)
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
        report = evaluate_gates(
            gates, cand_eval.metrics, champ_eval.metrics if champ_eval else None,
            cand_eval.latency.get("p95_ms"), signature)
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
        tracker.set_alias(name, CHAMPION, candidate)
        challenger = tracker.alias_version(name, CHALLENGER)
        if challenger is not None and str(challenger.version) == candidate:
            tracker.delete_alias(name, CHALLENGER)
        events = hist.events_from_tags(dict(tracker.registered_model(name).tags))
        event = hist.HistoryEvent(hist.next_seq(events), "promote", candidate, previous, at,
                                  by, reason or report.summary(), run.info.run_id)
        tracker.set_model_tag(name, *event.tag())
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
    AuditLog(settings.audit_log_path).append({
        "event": f"promotion.{outcome}", **decision.to_dict(), "reason": why,
        "tracking_uri": tracker.uri,
    })
    # END SOLUTION


def rollback(tracker: Tracker, settings: Settings, name: str,
             reason: str | None = None) -> hist.HistoryEvent:
    """Point `champion` back at the version the current champion replaced."""
    # BEGIN SOLUTION: move champion back, record history, tags and audit
    current = tracker.alias_version(name, CHAMPION)
    if current is None:
        raise ConflictError(f"model {name!r} has no champion to roll back")
    events = hist.events_from_tags(dict(tracker.registered_model(name).tags))
    target = hist.rollback_target(events, str(current.version))
    if target is None:
        raise ConflictError(f"model {name!r}: champion v{current.version} has no previous "
                            "champion to roll back to")
    tracker.version(name, target)
    by, at = settings.who, now_iso()
    why = reason or f"rollback from v{current.version}"
    tracker.set_alias(name, CHAMPION, target)
    event = hist.HistoryEvent(hist.next_seq(events), "rollback", target,
                              str(current.version), at, by, why)
    tracker.set_model_tag(name, *event.tag())
    tracker.set_version_tags(name, str(current.version), {
        "mltrack.rolled_back_at": at, "mltrack.rolled_back_by": by, "mltrack.reason": why})
    tracker.set_version_tags(name, target, {"mltrack.restored_at": at})
    AuditLog(settings.audit_log_path).append({
        "event": "rollback", "model": name, "from": str(current.version), "to": target,
        "at": at, "by": by, "reason": why, "tracking_uri": tracker.uri,
    })
    return event
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
