"""The PR comment: a mock preview and its policy report as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumiml.driver import MockPreview

#: The first line of every comment: the workflow finds and updates its own comment by it.
MARKER = "<!-- pulumiml-preview -->"


def markdown_report(preview: MockPreview, changed: Sequence[str] = ()) -> str:
    """Summary table, policy findings (mandatory first), deploy order."""
    lines = [MARKER, "### pulumiml mock preview", ""]
    if changed:
        lines += [f"Changed: {', '.join(f'`{c}`' for c in changed)}", ""]
    rows = preview.summary()
    if not rows:
        lines += ["No stack is affected by this change.", ""]
        return "\n".join(lines)
    lines += ["| stack | resources | components | mandatory | advisory |",
              "|---|---:|---:|---:|---:|"]
    lines += [f"| `{r['stack']}` | {r['resources']} | {r['components']} | {r['mandatory']} | "
              f"{r['advisory']} |" for r in rows]
    lines.append("")
    findings = sorted(preview.policy.diagnostics, key=lambda d: (d.level != "mandatory", d.stack))
    if findings:
        lines += ["#### Policy report", "", "| level | stack | policy | resource | message |",
                  "|---|---|---|---|---|"]
        lines += [f"| {d.level} | `{d.stack}` | {d.policy} | "
                  f"{d.urn.rsplit('::', 1)[-1] or '(stack)'} | {d.message.replace('|', '/')} |"
                  for d in findings]
    else:
        lines.append(f"Policy report: {preview.policy.evaluations} evaluations, no violations.")
    lines += ["", "Deploy order: " + " → ".join(
        "[" + ", ".join(f"`{s}`" for s in level) + "]" for level in preview.order), ""]
    return "\n".join(lines)
