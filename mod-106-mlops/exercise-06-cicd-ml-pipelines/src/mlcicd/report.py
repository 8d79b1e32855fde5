"""A CML-style pull-request report: metrics, params, data and plots against the base ref.

Pure rendering: the inputs are DVC's own `--json` outputs, so the report shows exactly what
`dvc metrics diff`, `dvc params diff`, `dvc diff` and `dvc plots diff` computed. The hidden
marker lets later runs find and update the same comment instead of adding one per push.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- mlcicd-report -->"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _signed(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:+.4f}" if isinstance(value, float) else f"{value:+d}"
    return "-"


def render(base: str, base_sha: str, head_sha: str, metrics: dict[str, Any],
           params: dict[str, Any], data: dict[str, Any], plots: list[str],
           gate_summary: str | None = None) -> str:
    """The markdown body; starts with MARKER so `upsert` can find it again."""
    # BEGIN SOLUTION
    lines = [MARKER, f"## Model report: `{head_sha[:8]}` vs `{base}` (`{base_sha[:8]}`)", ""]
    lines += ["### Metrics", ""]
    rows = [(f, k, v) for f, values in sorted(metrics.items()) for k, v in sorted(values.items())]
    if rows:
        lines += ["| file | metric | base | this PR | change |", "|---|---|---:|---:|---:|"]
        lines += [f"| {f} | {k} | {_fmt(v.get('old'))} | {_fmt(v.get('new'))} | "
                  f"{_signed(v.get('diff'))} |" for f, k, v in rows]
    else:
        lines.append("No metric changed.")
    lines += ["", "### Params", ""]
    prow = [(f, k, v) for f, values in sorted(params.items()) for k, v in sorted(values.items())]
    if prow:
        lines += ["| file | param | base | this PR |", "|---|---|---|---|"]
        lines += [f"| {f} | {k} | {_fmt(v.get('old'))} | {_fmt(v.get('new'))} |"
                  for f, k, v in prow]
    else:
        lines.append("No param changed.")
    lines += ["", "### Data and outputs", ""]
    changes = [(kind, entry.get("path", "?")) for kind in ("added", "deleted", "modified",
                                                           "renamed")
               for entry in data.get(kind, []) or []]
    if changes:
        lines += ["| change | path |", "|---|---|"]
        lines += [f"| {kind} | `{path}` |" for kind, path in changes]
    else:
        lines.append("No DVC-tracked data or output changed.")
    lines += ["", "### Plots", ""]
    lines.append(", ".join(f"`{p}`" for p in plots) + " (base and this PR overlaid, "
                 "`dvc plots diff`)" if plots else "No plots.")
    if gate_summary:
        lines += ["", "### Gate", "", gate_summary]
    return "\n".join(lines) + "\n"
    # END SOLUTION
