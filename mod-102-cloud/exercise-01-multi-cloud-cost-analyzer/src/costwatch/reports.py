"""Reports: a Summary rendered with Jinja2 (HTML for e-mail, Markdown for chat and git), and
the Slack-style JSON a webhook receives. Pure: sending is in adapters/notify.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from costwatch.summary import Summary

FORMATS = ("html", "markdown")


def _env() -> Environment:
    env = Environment(loader=PackageLoader("costwatch", "templates"),
                      autoescape=select_autoescape(["html.j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = lambda v: f"${v:,.2f}"
    return env


def render(summary: Summary, fmt: str, title: str = "Cloud cost report") -> str:
    """The report as HTML or Markdown."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}: use {', '.join(FORMATS)}")
    name = "report.html.j2" if fmt == "html" else "report.md.j2"
    return _env().get_template(name).render(s=summary, title=title)


def subject(summary: Summary, title: str = "Cloud cost report") -> str:
    last = summary.end - timedelta(days=1)
    period = f"{summary.start}" if summary.start == last else f"{summary.start} to {last}"
    flag = f", {len(summary.anomalies)} anomalies" if summary.anomalies else ""
    return f"{title}: ${summary.total:,.2f} ({period}{flag})"


def slack_payload(summary: Summary, title: str = "Cloud cost report") -> dict[str, Any]:
    """Slack incoming-webhook JSON: `text` for notifications, `blocks` for the layout."""
    lines = [f"*{provider}*: ${cost:,.2f}" for provider, cost in summary.totals.items()]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines) or "no spend"}},
    ]
    if summary.anomalies:
        text = "\n".join(
            f"• {a.day} {a.provider} {a.service} ({a.account}): +${a.impact:,.2f}"
            + (f" — {a.root_cause.get('resource')}" if a.root_cause.get("resource") else "")
            for a in summary.anomalies[:5])
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": f"*Anomalies*\n{text}"}})
    if summary.recommendations:
        text = "\n".join(f"• {r.action} ({r.resource_id}): ${r.monthly_savings:,.2f}/month"
                         for r in summary.recommendations[:5])
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": f"*Top savings*\n{text}"}})
    return {"text": subject(summary, title), "blocks": blocks}
