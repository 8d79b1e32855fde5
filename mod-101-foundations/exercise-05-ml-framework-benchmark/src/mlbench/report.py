"""`mlbench report`: a self-contained HTML report (Plotly JS embedded, works offline) and a
markdown summary, both built from a results file.
"""

from __future__ import annotations

import html
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from mlbench.schema import FRAMEWORKS, Result, ResultsFile

if TYPE_CHECKING:
    import plotly.graph_objects as go


def _go() -> Any:
    """plotly, imported on first use (it is only needed when a report is rendered)."""
    import plotly.graph_objects

    return plotly.graph_objects


COLORS = {"torch": "#ee4c2c", "tensorflow": "#ff8f00", "jax": "#5e97f6"}


def _ok(doc: ResultsFile) -> list[Result]:
    return [r for r in doc.results if r.status == "ok" and r.latency is not None]


def _label(r: Result) -> str:
    extra: list[str] = []
    if r.job.dtype != "fp32":
        extra.append(r.job.dtype)
    if r.channels_last_applied:
        extra.append("channels_last")
    if r.job.threads != 1:
        extra.append(f"{r.job.threads}t")
    suffix = f" ({', '.join(extra)})" if extra else ""
    return f"{r.job.model} bs{r.job.batch_size}{suffix}"


def throughput_figure(results: list[Result], mode: str) -> go.Figure | None:
    rows = [r for r in results if r.job.scenario is None and r.job.mode == mode]
    if not rows:
        return None
    fig = _go().Figure()
    for fw in FRAMEWORKS:
        mine = [r for r in rows if r.job.framework == fw]
        if not mine:
            continue
        tp = [r.throughput or 0.0 for r in mine]
        err_hi = [(r.throughput_ci95[1] - t) if r.throughput_ci95 else 0.0
                  for r, t in zip(mine, tp, strict=True)]
        err_lo = [(t - r.throughput_ci95[0]) if r.throughput_ci95 else 0.0
                  for r, t in zip(mine, tp, strict=True)]
        fig.add_bar(name=fw, x=[_label(r) for r in mine], y=tp, marker_color=COLORS[fw],
                    error_y={"type": "data", "symmetric": False, "array": err_hi,
                             "arrayminus": err_lo})
    fig.update_layout(title=f"{mode.capitalize()} throughput (samples/s, 95% CI)",
                      barmode="group", yaxis_title="samples/s", yaxis_type="log")
    return fig


def latency_figure(results: list[Result], mode: str) -> go.Figure | None:
    rows = [r for r in results if r.job.scenario is None and r.job.mode == mode]
    if not rows:
        return None
    fig = _go().Figure()
    for r in rows:
        fig.add_box(y=[s * 1e3 for s in r.samples_s], name=f"{r.job.framework}: {_label(r)}",
                    marker_color=COLORS[r.job.framework], boxpoints="outliers")
    fig.update_layout(title=f"{mode.capitalize()} step latency distribution (ms)",
                      yaxis_title="ms", yaxis_type="log", showlegend=False)
    return fig


def scenario_figure(results: list[Result]) -> go.Figure | None:
    rows = [r for r in results if r.job.scenario in ("single_stream", "server")]
    if not rows:
        return None
    fig = _go().Figure()
    for pct, attr in (("p50", "median"), ("p90", "p90"), ("p99", "p99")):
        fig.add_bar(name=pct, x=[f"{r.job.framework} {r.job.model} {r.job.scenario}"
                                 for r in rows],
                    y=[getattr(r.latency, attr) * 1e3 for r in rows])
    fig.update_layout(title="MLPerf-style scenarios: query latency percentiles (ms)",
                      barmode="group", yaxis_title="ms")
    return fig


def memory_figure(results: list[Result]) -> go.Figure | None:
    rows = [r for r in results if r.memory.get("peak_rss_mb")]
    if not rows:
        return None
    fig = _go().Figure()
    for fw in FRAMEWORKS:
        mine = [r for r in rows if r.job.framework == fw]
        if mine:
            fig.add_bar(name=fw, x=[f"{r.job.scenario or r.job.mode} {_label(r)}" for r in mine],
                        y=[r.memory["peak_rss_mb"] for r in mine], marker_color=COLORS[fw])
    fig.update_layout(title="Peak resident memory per worker process (MiB)", barmode="group",
                      yaxis_title="MiB")
    return fig


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


NO_DIFFERENCE = "no significant difference"


def winner(results: list[Result]) -> tuple[Result, Result | None, str]:
    """(fastest, runner-up, verdict) for one workload: the verdict names the fastest framework
    only when it is faster beyond doubt, else says "no significant difference".

    Beyond doubt: with 3+ repeated runs on both, the bootstrap interval of the ratio of their
    run medians excludes 1 (run-to-run noise included); otherwise the 95% intervals of their
    mean latencies do not overlap. Scenario throughputs (offline, server) carry no interval.
    """
    # BEGIN SOLUTION: rank by throughput; declare only when the intervals separate
    from mlbench.stats import compare_runs

    ranked = sorted(results, key=lambda r: -(r.throughput or 0.0))
    best = ranked[0]
    if len(ranked) < 2:
        return best, None, f"{best.job.framework} (only one)"
    second = ranked[1]
    if len(best.run_medians_s) >= 3 and len(second.run_medians_s) >= 3:
        runs = compare_runs(second.run_medians_s, best.run_medians_s, min_effect=0.0)
        separated = runs.ci_high < 1.0
        how = f"runs interval {runs.ci_low:.2f}-{runs.ci_high:.2f}x"
    elif best.job.scenario is None and best.latency and second.latency:
        separated = best.latency.ci95_high < second.latency.ci95_low
        how = "95% intervals do not overlap"
    else:
        separated, how = False, "no interval"
    if separated:
        return best, second, f"{best.job.framework} ({how})"
    why = how if how == "no interval" else "intervals overlap"
    return best, second, f"{NO_DIFFERENCE} ({why})"
    # END SOLUTION


def markdown_summary(doc: ResultsFile) -> str:
    """A markdown table of every result plus the fastest framework per workload."""
    # BEGIN SOLUTION: results table, fastest framework per workload, server and skipped tables
    lines = [f"# mlbench results: suite `{doc.suite}`", "",
             f"Created {doc.created}; {len(doc.results)} jobs.", ""]
    envs = {r.env.framework: r.env for r in doc.results if r.env}
    if envs:
        any_env = next(iter(envs.values()))
        lines += [f"CPU: {any_env.cpu_model} ({any_env.logical_cores} logical cores); "
                  f"Python {any_env.python}; "
                  + ", ".join(f"{fw} {e.framework_version}" for fw, e in envs.items()), ""]
    methods = sorted({r.memory_method for r in _ok(doc) if r.memory_method})
    if methods:
        lines += [f"Memory per job: {'; '.join(methods)} (a shared worker's peak RSS includes "
                  "earlier jobs: job_rss_delta_mb in results.json is this job's growth; "
                  "`--isolate-jobs` gives exact per-job peaks).", ""]
    lines += ["| job | params | median ms | p95 ms | mean ms (95% CI) | samples/s | "
              "peak RSS MiB |", "|---|---:|---:|---:|---|---:|---:|"]
    for r in _ok(doc):
        s = r.latency
        assert s is not None
        lines.append(f"| {r.key} | {r.param_count} | {s.median * 1e3:.3f} | {s.p95 * 1e3:.3f} "
                     f"| {s.mean * 1e3:.3f} ({s.ci95_low * 1e3:.3f}-{s.ci95_high * 1e3:.3f}) "
                     f"| {_fmt(r.throughput, 4)} | {_fmt(r.memory.get('peak_rss_mb'), 4)} |")
    best: dict[str, list[Result]] = defaultdict(list)
    for r in _ok(doc):
        j = r.job
        best[f"{j.model} {j.scenario or j.mode} bs{j.batch_size} {j.dtype}"].append(r)
    if best:
        lines += ["", "## Fastest framework per workload", "",
                  "A framework is named only when it is faster beyond the measurement's "
                  "uncertainty (see `winner`); otherwise: no significant difference.", "",
                  "| workload | winner | highest samples/s | runner-up |", "|---|---|---|---|"]
        for wl, rs in sorted(best.items()):
            top, second, verdict = winner(rs)
            runner = f"{second.job.framework} ({_fmt(second.throughput, 4)})" if second else "-"
            lines.append(f"| {wl} | {verdict} | {top.job.framework} "
                         f"({_fmt(top.throughput, 4)}) | {runner} |")
    servers = [r for r in _ok(doc) if r.job.scenario == "server" and r.scenario]
    if servers:
        lines += ["", "## Server scenario", "", "| job | target QPS | p99 ms | bound ms | met |",
                  "|---|---:|---:|---:|---|"]
        for r in servers:
            sc = r.scenario or {}
            lines.append(f"| {r.key} | {_fmt(sc.get('target_qps'))} | "
                         f"{_fmt((sc.get('p99_s') or 0) * 1e3)} | "
                         f"{_fmt((sc.get('latency_bound_s') or 0) * 1e3)} | "
                         f"{'yes' if sc.get('target_met') else 'no'} |")
    other = [r for r in doc.results if r.status != "ok"]
    if other:
        lines += ["", "## Skipped or failed", ""]
        lines += [f"- {r.key}: **{r.status}**: {r.reason}" for r in other]
    return "\n".join(lines) + "\n"
    # END SOLUTION


def html_report(doc: ResultsFile) -> str:
    """One HTML file: embedded plotly.js (offline), charts, the summary tables."""
    # BEGIN SOLUTION: one offline HTML page: charts with plotly.js embedded once, all results
    ok = _ok(doc)
    figures = [f for f in (throughput_figure(ok, "train"), throughput_figure(ok, "infer"),
                           latency_figure(ok, "train"), latency_figure(ok, "infer"),
                           scenario_figure(ok), memory_figure(ok)) if f is not None]
    parts = []
    for i, fig in enumerate(figures):
        fig.update_layout(template="plotly_white", height=480)
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0),
                                 div_id=f"mlbench-chart-{i}"))
    rows = []
    for r in doc.results:
        s = r.latency
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            r.key, r.status, r.param_count or "-",
            f"{s.median * 1e3:.3f}" if s else "-", f"{s.p95 * 1e3:.3f}" if s else "-",
            _fmt(r.throughput, 4), _fmt(r.memory.get("peak_rss_mb"), 4), r.reason or "")) + "</tr>")
    envs = sorted({(r.env.framework, r.env.framework_version or "?", r.env.device_name)
                   for r in doc.results if r.env})
    env_html = "".join(f"<li>{html.escape(f'{fw} {v} on {d}')}</li>" for fw, v, d in envs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>mlbench report: {html.escape(doc.suite)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}
</style></head><body>
<h1>mlbench report: suite {html.escape(doc.suite)}</h1>
<p>Created {html.escape(doc.created)}. {len(ok)} of {len(doc.results)} jobs succeeded.</p>
<h2>Environment</h2><ul>{env_html}</ul>
<p>Memory per job: {html.escape('; '.join(sorted({r.memory_method for r in ok
                                                  if r.memory_method})) or 'not recorded')}.</p>
<h2>Charts</h2>
{''.join(parts) if parts else '<p>No successful results to chart.</p>'}
<h2>All results</h2>
<table><tr><th>job</th><th>status</th><th>params</th><th>median ms</th><th>p95 ms</th>
<th>samples/s</th><th>peak RSS MiB</th><th>reason</th></tr>
{''.join(rows)}</table>
</body></html>
"""
    # END SOLUTION
