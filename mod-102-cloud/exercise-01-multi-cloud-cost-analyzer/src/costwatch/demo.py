"""`costwatch demo` / `make run`: the bundled three-cloud sample, end to end, offline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from importlib import resources

from costwatch.adapters.focus_file import FocusFileSource
from costwatch.config import Settings
from costwatch.ingest import ingest
from costwatch.store import Store
from costwatch.summary import build_summary

SAMPLE = (("aws-focus.csv", "sample:aws"), ("gcp-focus.parquet", "sample:gcp"),
          ("azure-focus.parquet", "sample:azure"))


def run_demo(settings: Settings, echo: Callable[[str], None], serve: bool = True,
             port: int = 8050) -> None:
    rates = settings.rates()
    folder = resources.files("costwatch") / "data" / "sample"
    with Store(settings.store) as store:
        for name, key in SAMPLE:
            with resources.as_file(folder / name) as path:
                result = ingest(store, FocusFileSource(path), None, rates,
                                settings.reporting_currency, key)
            echo(f"ingested {result.rows:>5} rows  {key:<13} {result.start}.."
                 f"{result.end - timedelta(days=1)}")
        span = store.date_span()
        assert span is not None
        end = span[1] + timedelta(days=1)
        summary = build_summary(store, end - timedelta(days=30), end,
                                budgets=settings.budgets, detector=settings.anomaly.detector())
    echo(f"\nspend {summary.start}..{end - timedelta(days=1)} "
         f"({settings.reporting_currency}, EffectiveCost)")
    for provider, cost in summary.totals.items():
        echo(f"  {provider:<14} ${cost:>12,.2f}")
    echo(f"  {'total':<14} ${summary.total:>12,.2f}")
    if summary.forecast:
        f = summary.forecast
        echo(f"forecast {f.month}: ${f.month_end:,.2f} (${f.actual_to_date:,.2f} so far)")
    echo(f"\nanomalies ({len(summary.anomalies)})")
    for a in summary.anomalies[:5]:
        echo(f"  {a.day} {a.provider} / {a.service} / {a.account}: +${a.impact:,.2f} "
             f"(z={a.z_score:.1f}) root cause {a.root_cause.get('resource')} in "
             f"{a.root_cause.get('region')}")
    echo("\ntop savings")
    for r in summary.recommendations[:5]:
        echo(f"  ${r.monthly_savings:>10,.2f}/month  {r.provider}: {r.action} ({r.detail})")
    if serve:
        from costwatch.dashboard import create_app

        echo(f"\ndashboard on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        create_app(settings.store, settings).run(host="127.0.0.1", port=port, debug=False)
