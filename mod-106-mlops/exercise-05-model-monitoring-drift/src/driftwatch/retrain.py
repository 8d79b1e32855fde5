"""Carry out a decision: trigger the training DAG (once) and write the audit log.

The decision is logged whatever happens; `triggered` is true only when Airflow holds the run
(created now, or already there from an earlier attempt). A failure is logged with the error
and re-raised, so the exit code says what went wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime

from driftwatch.adapters.airflow import AirflowClient
from driftwatch.config import Settings
from driftwatch.errors import ConfigurationError, DriftwatchError
from driftwatch.policy import Decision
from driftwatch.store import Store


def execute(decision: Decision, settings: Settings, store: Store, dry_run: bool = False
            ) -> Decision:
    """Trigger `decision` if it says retrain; append it to the audit log either way."""
    decision.decided_at = datetime.now(UTC).isoformat(timespec="seconds")
    if decision.action != "retrain" or dry_run:
        if dry_run and decision.action == "retrain":
            decision.airflow = "dry run: not triggered"
        store.append_decision(decision)
        return decision
    # BEGIN SOLUTION
    airflow = settings.airflow
    decision.dag_id = settings.dag_id
    decision.dag_run_id = decision.id
    try:
        if not airflow.url:
            raise ConfigurationError("airflow.url is not set (DRIFTWATCH_AIRFLOW__URL)")
        password = airflow.password.get_secret_value() if airflow.password else ""
        conf = {"decision_id": decision.id, "model": decision.model,
                "version": decision.version, "window": decision.window_id,
                "window_end": decision.window_end, "reasons": decision.reasons}
        with AirflowClient(airflow.url, airflow.username, password, airflow.timeout_s,
                           airflow.retries, airflow.backoff_s) as client:
            outcome = client.trigger(settings.dag_id, decision.id, conf)
        decision.triggered = True
        decision.airflow = outcome.outcome
    except DriftwatchError as exc:
        decision.triggered = False
        decision.airflow = f"error: {exc}"
        store.append_decision(decision)
        raise
    store.append_decision(decision)
    return decision
    # END SOLUTION
