"""The monitoring run: log -> windows -> statistics + Evidently -> results, snapshots, metrics.

`process` is what `driftwatch run` (new and not yet mature windows) and `driftwatch
backfill` (a range, recomputed) share. Each window's result is written atomically once it
is complete, so an interrupted run leaves whole results only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from driftwatch.adapters import pushgateway
from driftwatch.analysis import WindowResult, analyse
from driftwatch.config import Settings
from driftwatch.metrics import build_registry
from driftwatch.reference import ReferenceProfile
from driftwatch.store import Store
from driftwatch.windows import Window, check_label_ids, cut_windows, join_labels


@dataclass
class RunSummary:
    results: list[WindowResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already final
    html: dict[str, list[str]] = field(default_factory=dict)
    pushed: bool = False


def prepare_windows(predictions: pd.DataFrame, labels: pd.DataFrame | None,
                    profile: ReferenceProfile, settings: Settings,
                    as_of: pd.Timestamp) -> list[Window]:
    """Validate both inputs against the contract, cut windows and join labels."""
    contract = profile.contract
    contract.validate_predictions(predictions)
    spec = settings.windows.spec()
    windows = cut_windows(predictions, contract, spec)
    if labels is None:
        labels = pd.DataFrame({contract.id_column: pd.Series(dtype=str),
                               contract.target: pd.Series(dtype=int),
                               "label_timestamp": pd.Series(dtype="datetime64[ns, UTC]")})
    contract.validate_labels(labels)
    check_label_ids(predictions, labels, contract)
    return [join_labels(w, labels, contract, as_of, spec.grace) for w in windows]


def _matured_coverage(results: list[WindowResult]) -> float | None:
    matured = [r for r in results if r.matured]
    return matured[-1].label_coverage if matured else None


def process(windows: list[Window], profile: ReferenceProfile, settings: Settings,
            store: Store, as_of: pd.Timestamp, *, recompute: bool,
            progress: Callable[[int], Any] = lambda _n: None) -> RunSummary:
    """Analyse `windows`; without `recompute`, windows whose stored result is final are kept."""
    summary = RunSummary()
    existing = {r.window_id: r for r in store.results(settings.model)}
    options = settings.analysis_options()
    snapshots = None
    if settings.evidently.enabled:
        from driftwatch.adapters.evidently_workspace import SnapshotStore

        secret = settings.evidently.ui_secret
        snapshots = SnapshotStore(store.home / "workspace", settings.evidently.ui_url,
                                  secret.get_secret_value() if secret else None,
                                  settings.project)
    for window in windows:
        old = existing.get(window.id)
        if not recompute and old is not None and old.matured \
                and old.reference_hash == profile.content_hash:
            summary.skipped.append(window.id)
            progress(1)
            continue
        result = analyse(window, profile, options, settings.model, settings.model_version,
                         as_of)
        if snapshots is not None and result.sufficient:
            result.evidently, summary.html[window.id] = _evidently(window, result, profile,
                                                                   settings, store, snapshots)
        store.save_result(result)
        summary.results.append(result)
        progress(1)
    if settings.pushgateway_url and summary.results:
        history = store.results(settings.model)
        latest = history[-1]
        pushgateway.push(settings.pushgateway_url,
                         build_registry(latest, _matured_coverage(history)),
                         settings.model, settings.model_version)
        summary.pushed = True
    return summary


def _evidently(window: Window, result: WindowResult, profile: ReferenceProfile,
               settings: Settings, store: Store, snapshots: Any
               ) -> tuple[dict[str, Any], list[str]]:
    from driftwatch.adapters.evidently_reports import run_window
    from driftwatch.policy import Policy

    contract = profile.contract
    labelled = (window.frame[window.frame[contract.target].notna()]
                if result.realized is not None else None)
    policy = Policy.load(settings.policy_file)
    run = run_window(window.frame, profile, labelled, settings.drift.per_column_method,
                     policy.drifted_share, policy.max_realized_drop,
                     settings.drift.numerical_method, settings.drift.categorical_method)
    info: dict[str, Any] = {**run.summary, "snapshots": {}}
    html: list[str] = []
    for name, snapshot in run.snapshots.items():
        info["snapshots"][name] = snapshots.add(snapshot, f"{settings.model} {window.id} {name}")
        if settings.evidently.html:
            path = store.report_dir(window.id) / f"{name}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".html.tmp")
            snapshot.save_html(str(tmp))
            tmp.replace(path)
            html.append(str(path))
    return info, html
