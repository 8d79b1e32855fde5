"""Leaderboard rows and the HTML report (plots of runs and their metric curves)."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mltrack import plots
from mltrack.adapters.mlflow_server import Tracker


@dataclass
class Row:
    rank: int
    run_id: str
    run_name: str
    flavor: str
    parent_run_id: str | None
    metric: float | None
    metrics: dict[str, float]
    params: dict[str, str]
    started: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def leaderboard(tracker: Tracker, experiment: str, metric: str = "val_f1",
                limit: int = 20) -> list[Row]:
    """Finished runs with `metric`, best first (ties: newest first)."""
    # BEGIN SOLUTION: finished runs with the metric, best first, ranked rows
    runs = tracker.search_runs(experiment, order_by=[f"metrics.`{metric}` DESC",
                                                     "attributes.start_time DESC"])
    rows: list[Row] = []
    for run in runs:
        if metric not in run.data.metrics:
            continue
        rows.append(Row(
            rank=len(rows) + 1, run_id=run.info.run_id,
            run_name=run.info.run_name or run.info.run_id[:8],
            flavor=run.data.tags.get("mltrack.flavor", "?"),
            parent_run_id=run.data.tags.get("mlflow.parentRunId"),
            metric=run.data.metrics.get(metric),
            metrics={k: float(v) for k, v in run.data.metrics.items() if k.startswith("val_")
                     and k != "val_loss" and k != "val_accuracy"},
            params=dict(run.data.params),
            started=datetime.fromtimestamp(run.info.start_time / 1000, UTC).isoformat(
                timespec="seconds"),
        ))
        if len(rows) >= limit:
            break
    return rows
    # END SOLUTION


def html_report(tracker: Tracker, experiment: str, metric: str = "val_f1",
                curves: int = 5) -> str:
    """A self-contained HTML page: metric per run, learning curves of the best runs, table."""
    rows = leaderboard(tracker, experiment, metric, limit=50)
    bar = plots.to_png_base64(plots.bar_figure(
        [r.run_name for r in rows], [r.metric or 0.0 for r in rows], f"{metric} per run"))
    series: dict[str, tuple[list[int], list[float]]] = {}
    for row in rows[:curves]:
        history = tracker.metric_history(row.run_id, "val_loss")
        if history:
            ordered = sorted(history, key=lambda m: m.step)
            series[row.run_name] = ([m.step for m in ordered], [m.value for m in ordered])
    lines = plots.to_png_base64(plots.lines_figure(series, "validation loss per epoch",
                                                   "val_loss"))
    body_rows = "\n".join(
        f"<tr><td>{r.rank}</td><td>{html.escape(r.run_name)}</td>"
        f"<td><code>{r.run_id[:12]}</code></td><td>{html.escape(r.flavor)}</td>"
        f"<td>{'' if r.metric is None else f'{r.metric:.4f}'}</td>"
        f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in sorted(r.params.items())))}</td>"
        f"<td>{r.started}</td></tr>" for r in rows)
    title = f"mltrack report: {html.escape(experiment)}"
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px}}</style></head>
<body><h1>{title}</h1>
<p>Tracking server: <code>{html.escape(tracker.uri)}</code>; {len(rows)} finished runs
with <code>{html.escape(metric)}</code>; generated {generated}.</p>
<h2>{html.escape(metric)} per run</h2><img alt="metric per run" src="data:image/png;base64,{bar}">
<h2>Learning curves (top {len(series)})</h2>
<img alt="validation loss curves" src="data:image/png;base64,{lines}">
<h2>Runs</h2><table><tr><th>#</th><th>run</th><th>id</th><th>flavor</th>
<th>{html.escape(metric)}</th><th>params</th><th>started</th></tr>
{body_rows}
</table></body></html>
"""
