"""Turn simulation results into a comparison: the winner, rows for a table, a plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from autoscale.simulator import Result

COLUMNS = ("policy", "provisioner", "SLO-violation min", "dropped", "dropped %", "cost $",
           "node-hours", "scaling events", "node events", "max replicas")


def rows(results: Sequence[Result]) -> list[list[str]]:
    return [[r.policy, r.provisioner, f"{r.violation_minutes:.1f}", f"{r.dropped_requests:,.0f}",
             f"{r.dropped_ratio * 100:.3f}", f"{r.cost:.2f}", f"{r.node_hours:.1f}",
             str(r.scaling_events), str(r.node_events), str(r.max_replicas)]
            for r in results]


def winner(results: Sequence[Result], slack_minutes: float = 1.0) -> Result:
    """The cheapest policy among those within `slack_minutes` of the fewest SLO-violation
    minutes: the SLO first, then the money (a cheap policy that misses the SLO never wins)."""
    if not results:
        raise ValueError("no results")
    best = min(r.violation_minutes for r in results)
    good = [r for r in results if r.violation_minutes <= best + slack_minutes]
    return min(good, key=lambda r: (r.cost, r.violation_minutes))


def plot(results: Sequence[Result], path: Path, title: str) -> None:
    """Request rate and ready replicas per policy over time (PNG, written atomically)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from aiinfra_shared.io import atomic_write_bytes

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
    first = next((r for r in results if r.series), None)
    if first is None:
        raise ValueError("results were simulated without series")
    hours = [t / 3600 for t in first.series["t"]]
    top.plot(hours, first.series["rps"], color="black", linewidth=0.8)
    top.set_ylabel("requests/s")
    top.set_title(title)
    for result in results:
        bottom.step([t / 3600 for t in result.series["t"]], result.series["ready"],
                    where="post", linewidth=0.9, label=result.label)
    bottom.set_ylabel("ready pods")
    bottom.set_xlabel("hours")
    bottom.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
