"""Reports of an analysis: a JSON document (the stable, scriptable form), markdown for a PR
comment, and a self-contained HTML page (layer table, bytes per top directory, waste)."""

from __future__ import annotations

import html
from typing import Any

from imgopt.cirules import RuleResult
from imgopt.layers import Analysis
from imgopt.recommend import Recommendation


def human(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def to_document(analysis: Analysis, recommendations: list[Recommendation] | None = None,
                ci: list[RuleResult] | None = None) -> dict[str, Any]:
    dive = analysis.dive
    return {
        "source": analysis.source,
        "dive": {"efficiency": dive.efficiency, "wastedBytes": dive.wasted_bytes,
                 "userWastedPercent": dive.user_wasted_percent, "sizeBytes": dive.size_bytes,
                 "userSizeBytes": dive.user_size_bytes,
                 "inefficiencies": [{"file": p, "count": c, "sizeBytes": s}
                                    for p, c, s in dive.inefficiencies]},
        "reclaimable_bytes": analysis.reclaimable_bytes,
        "cache_bytes": analysis.cache_bytes,
        "final_size_bytes": analysis.final_size,
        "layers": [{"index": s.index, "digest": s.digest, "created_by": s.created_by,
                    "size": s.size, "files": s.files, "whiteouts": s.whiteouts,
                    "opaque_dirs": list(s.opaque_dirs), "duplicates": s.duplicates}
                   for s in analysis.layers],
        "waste": [{"path": "/" + w.path, "size": w.size, "reason": w.reason,
                   "layer": w.layer, "created_by": analysis.layers[w.layer].created_by,
                   "by_layer": w.by_layer,
                   "by_created_by": (analysis.layers[w.by_layer].created_by
                                     if w.by_layer is not None else None),
                   "detail": w.detail} for w in analysis.waste],
        "top_dirs": [{"path": p, "size": s} for p, s in analysis.top_dirs],
        "recommendations": [{"source": r.source, "title": r.title,
                             "bytes_saved": r.bytes_saved, "seconds_saved": r.seconds_saved}
                            for r in recommendations or []],
        "ci": [{"rule": r.rule, "status": r.status, "message": r.message} for r in ci or []],
    }


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(analysis: Analysis, recommendations: list[Recommendation] | None = None,
                ci: list[RuleResult] | None = None) -> str:
    dive = analysis.dive
    lines = [f"### imgopt: `{analysis.source}`", "",
             "| metric | value |", "|---|---|",
             f"| size | {human(dive.size_bytes)} in {len(analysis.layers)} layers |",
             f"| efficiency (dive) | {dive.efficiency:.1%} |",
             f"| wasted bytes (dive, every copy) | {human(dive.wasted_bytes)} |",
             f"| reclaimable (hidden copies) | {human(analysis.reclaimable_bytes)} |",
             f"| caches left behind | {human(analysis.cache_bytes)} |", ""]
    if analysis.waste:
        lines += ["| path | bytes | why | written by | hidden by |", "|---|---:|---|---|---|"]
        for w in analysis.waste[:15]:
            by = (f"layer {w.by_layer}: `{_md_cell(analysis.layers[w.by_layer].created_by[:60])}`"
                  if w.by_layer is not None else "-")
            lines.append(f"| /{_md_cell(w.path)} | {w.size} | {w.reason} {w.detail} | layer "
                         f"{w.layer}: `{_md_cell(analysis.layers[w.layer].created_by[:60])}` "
                         f"| {by} |")
        lines.append("")
    if recommendations:
        lines += ["**Recommendations**", ""]
        lines += [f"{n}. {_md_cell(r.title)} ({human(r.bytes_saved)}, {r.seconds_saved:.1f} s)"
                  f" [{r.source}]" for n, r in enumerate(recommendations, 1)]
        lines.append("")
    if ci:
        lines += [f"- CI {r.status}: {r.rule} {r.message}" for r in ci]
    return "\n".join(lines) + "\n"


def to_html(analysis: Analysis, recommendations: list[Recommendation] | None = None,
            ci: list[RuleResult] | None = None) -> str:
    esc = html.escape
    dive = analysis.dive
    biggest = max([s for _, s in analysis.top_dirs] or [1]) or 1
    layer_rows = "".join(
        f"<tr><td>{s.index}</td><td>{human(s.size)}</td><td>{s.files}</td><td>{s.whiteouts}"
        f"</td><td>{s.duplicates}</td><td><code>{esc(s.created_by)}</code></td></tr>"
        for s in analysis.layers)
    dir_rows = "".join(
        f"<tr><td>{esc(p)}</td><td>{human(s)}</td><td><div class=bar style='width:"
        f"{100 * s / biggest:.0f}%'></div></td></tr>" for p, s in analysis.top_dirs)
    waste_rows = "".join(
        f"<tr><td>/{esc(w.path)}</td><td>{human(w.size)}</td><td>{esc(w.reason)} "
        f"{esc(w.detail)}</td><td>{w.layer}</td><td>{'' if w.by_layer is None else w.by_layer}"
        f"</td></tr>" for w in analysis.waste)
    rec_rows = "".join(f"<li>{esc(r.title)} <b>{human(r.bytes_saved)}</b> [{esc(r.source)}]</li>"
                       for r in recommendations or [])
    ci_rows = "".join(f"<li>{esc(r.status)} {esc(r.rule)}: {esc(r.message)}</li>"
                      for r in ci or [])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>imgopt: {esc(analysis.source)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}
.bar{{background:#4a90d9;height:10px}}</style></head><body>
<h1>imgopt: {esc(analysis.source)}</h1>
<p>size {human(dive.size_bytes)}, {len(analysis.layers)} layers, efficiency
{dive.efficiency:.1%} (dive), wasted {human(dive.wasted_bytes)} (dive),
reclaimable {human(analysis.reclaimable_bytes)}, caches {human(analysis.cache_bytes)}</p>
<h2>Layers</h2><table id="layers"><tr><th>#</th><th>size</th><th>files</th><th>whiteouts</th>
<th>duplicates</th><th>created by</th></tr>{layer_rows}</table>
<h2>Bytes per top directory</h2><table id="dirs"><tr><th>dir</th><th>bytes</th><th></th></tr>
{dir_rows}</table>
<h2>Wasted bytes</h2><table id="waste"><tr><th>path</th><th>bytes</th><th>why</th>
<th>written by layer</th><th>hidden by layer</th></tr>{waste_rows}</table>
<h2>Recommendations</h2><ol>{rec_rows}</ol><ul>{ci_rows}</ul></body></html>
"""
