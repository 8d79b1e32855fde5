"""Rendering: the split, the recommendations and the tune table as text, markdown and HTML."""

from __future__ import annotations

import html
from typing import Any

from gpuopt.analyze import CATEGORIES, Analysis


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f} MiB"


def breakdown_rows(analysis: Analysis) -> list[list[str]]:
    mean = analysis.mean_step_s
    return [[c, f"{analysis.shares[c] * mean * 1000:.1f} ms", f"{analysis.shares[c]:.1%}"]
            for c in CATEGORIES]


def recommendation_rows(analysis: Analysis) -> list[list[str]]:
    rows = []
    for index, rec in enumerate(analysis.recommendations, start=1):
        gain = (f"{rec.expected_speedup:.2f}x speed" if rec.kind == "speed" else
                f"{rec.expected_memory_ratio or 0:.2f}x activation memory")
        rows.append([str(index), rec.recipe, rec.kind, gain, rec.reason])
    return rows


TUNE_COLUMNS = ["variant", "median step", "95% CI", "samples/s", "speed-up", "expected",
                "data share", "activations", "loss", "guard"]


def tune_rows(doc: dict[str, Any]) -> list[list[str]]:
    rows = []
    for row in doc["variants"]:
        expected = row.get("expected_speedup")
        rows.append([
            row["variant"], f"{row['median_step_s'] * 1000:.1f} ms",
            f"{row['ci_low_s'] * 1000:.1f}-{row['ci_high_s'] * 1000:.1f}",
            f"{row['throughput_samples_s']:.1f}", f"{row['speedup']:.2f}x",
            f"{expected:.2f}x" if expected else "-",
            f"{row['phase_shares']['data']:.0%}",
            _mib(row.get("peak_device_bytes") or row.get("peak_activation_bytes")),
            f"{row['loss']:.4f}",
            "ok" if row["loss_ok"] else f"FAIL ({row['loss_rel_delta']:.1%})"])
    return rows


def markdown(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(out)


def tune_markdown(doc: dict[str, Any], analysis: Analysis | None) -> str:
    cpu = doc["cpu"]
    parts = [f"# gpuopt tune: {doc['workload']} on {doc['device']}", "",
             f"torch {doc['torch']}, {doc['threads']} intra-op thread(s), batch "
             f"{doc['batch_size']}; CPU {cpu['model'] or '?'} (AMX-BF16: {cpu['amx_bf16']}, "
             f"AVX-512 BF16: {cpu['avx512_bf16']}). Rounds {doc['options']['rounds']} x "
             f"{doc['options']['steps']} steps, interleaved; loss guard: mean loss of steps "
             f"{doc['options']['loss_steps'] - 2}..{doc['options']['loss_steps']} within "
             f"{doc['options']['loss_tolerance']:.0%} of the baseline.", ""]
    if analysis is not None:
        parts += ["## Baseline breakdown", "",
                  markdown(["category", "per step", "share"], breakdown_rows(analysis)), "",
                  "## Recommendations", "",
                  markdown(["#", "recipe", "kind", "expected", "why"],
                           recommendation_rows(analysis)), ""]
    parts += ["## Measured", "", markdown(TUNE_COLUMNS, tune_rows(doc)), ""]
    return "\n".join(parts)


def tune_html(doc: dict[str, Any], analysis: Analysis | None) -> str:
    """A self-contained HTML page (no scripts, no external assets)."""

    def table(headers: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    title = html.escape(f"gpuopt tune: {doc['workload']} on {doc['device']}")
    sections = [f"<h1>{title}</h1>"]
    if analysis is not None:
        sections += ["<h2>Baseline breakdown</h2>",
                     table(["category", "per step", "share"], breakdown_rows(analysis)),
                     "<h2>Recommendations</h2>",
                     table(["#", "recipe", "kind", "expected", "why"],
                           recommendation_rows(analysis))]
    sections += ["<h2>Measured</h2>", table(TUNE_COLUMNS, tune_rows(doc))]
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n")
