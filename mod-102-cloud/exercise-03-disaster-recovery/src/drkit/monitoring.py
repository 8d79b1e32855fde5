"""RTO/RPO monitoring: the gauges drkit pushes, computed from the catalog and the archive.

Pushed to the Pushgateway (job `drkit`), alerted on by `deploy/alerts.yml` (tested with
`promtool test rules`): a backup too old, WAL archiving lagging, a standby behind, a drill
that missed its target.
"""

from __future__ import annotations

from datetime import UTC, datetime

from drkit.catalog import Catalog
from drkit.report import DrillResult

Gauges = dict[str, tuple[str, dict[str, str], float]]


def backup_gauges(catalog: Catalog, last_archived_at: datetime | None,
                  replication_lag: dict[str, int], artifact_lag_s: float | None,
                  now: datetime | None = None) -> Gauges:
    """Gauges from the current state; ages in seconds, lags in bytes or seconds."""
    now = now or datetime.now(UTC)
    gauges: Gauges = {}
    # BEGIN SOLUTION: last backup age, WAL archive lag, per-standby replication lag, artifact RPO
    if catalog.backups:
        newest = max(b.finished_at for b in catalog.backups)
        gauges["drkit_last_backup_age_seconds"] = (
            "Seconds since the newest base backup finished", {},
            max(0.0, (now - newest).total_seconds()))
    gauges["drkit_backups_total"] = ("Base backups in the catalog", {},
                                     float(len(catalog.backups)))
    if last_archived_at is not None:
        gauges["drkit_wal_archive_lag_seconds"] = (
            "Seconds since the newest WAL segment reached the repository", {},
            max(0.0, (now - last_archived_at).total_seconds()))
    for standby, lag in replication_lag.items():
        gauges[f"drkit_replication_lag_bytes{{{standby}}}"] = (
            "WAL bytes the standby has not replayed", {"standby": standby}, float(lag))
    if artifact_lag_s is not None:
        gauges["drkit_artifact_replication_lag_seconds"] = (
            "Age of the oldest artifact version not yet in the DR region (artifact RPO)", {},
            artifact_lag_s)
    # END SOLUTION
    return gauges


def drill_gauges(results: list[DrillResult]) -> Gauges:
    gauges: Gauges = {}
    for r in results:
        labels = {"scenario": r.scenario}
        if r.rto_s is not None:
            gauges[f"drkit_drill_rto_seconds{{{r.scenario}}}"] = (
                "RTO measured by the last drill", labels, r.rto_s)
        if r.rpo_s is not None:
            gauges[f"drkit_drill_rpo_seconds{{{r.scenario}}}"] = (
                "RPO measured by the last drill", labels, r.rpo_s)
        gauges[f"drkit_drill_target_met{{{r.scenario}}}"] = (
            "1 when the last drill met its RTO and RPO targets", labels,
            1.0 if r.passed else 0.0)
        gauges[f"drkit_drill_rto_target_seconds{{{r.scenario}}}"] = (
            "RTO target of the scenario", labels, r.rto_target_s)
    return gauges
