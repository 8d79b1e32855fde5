"""Monthly chargeback from Prometheus: allocated, used and idle GPU-hours and cost per team.

Allocated hours count dcgm samples with a pod (x interval); MIG instances weigh their share
of compute slices. Cost is allocated hours x the model's price; the fleet's cost is every
GPU-hour of the month, the remainder is the "(unallocated)" row. Cents are split by largest
remainder so the rows add up to the fleet cost exactly.

Time-sliced GPUs (series with a `vgpu` label: one per pod sharing the GPU, all carrying the
device-level value, dcgm-exporter#587) are split fairly instead of charged whole to every
pod: at each scrape, a GPU goes to the namespaces on it in proportion to their summed
`gpufleet_process_sm_util`; when nobody computed (the SM sum is 0 or absent) it is split
evenly among the pods allocated then. The per-scrape shares of a GPU add up to 1, so a
shared GPU's hours are counted once. Used hours on a shared GPU are the pod's own SM %."""

from __future__ import annotations

import csv
import html
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from aiinfra_shared.io import atomic_write_text

from gpufleet.backfill import month_bounds
from gpufleet.errors import FleetError
from gpufleet.fleet import Fleet
from gpufleet.profiles import model_by_dcgm_name, slice_weight
from gpufleet.promclient import PrometheusClient

CENT = Decimal("0.01")
UNALLOCATED = "(unallocated)"
HEADERS = ("team", "namespace", "allocated_gpu_h", "used_gpu_h", "idle_gpu_h", "cost_usd")


@dataclass(frozen=True)
class Row:
    team: str
    namespace: str
    allocated: Decimal
    used: Decimal
    cost: Decimal

    @property
    def idle(self) -> Decimal:
        return self.allocated - self.used


@dataclass(frozen=True)
class Report:
    month: str
    rows: list[Row]
    fleet_cost: Decimal
    fleet_gpu_hours: Decimal

    def total(self, attr: str) -> Decimal:
        return sum((getattr(r, attr) for r in self.rows), Decimal(0))


def shared_share_expr(interval_s: int) -> str:
    """Per (GPU, model, namespace) share of a time-sliced GPU at one scrape (sums to 1 per GPU).

    Each selector reads `[interval - 1 ms]` so that, evaluated on the scrape grid, it sees
    exactly that scrape's sample (an instant selector would look back 5 minutes)."""
    # BEGIN SOLUTION
    now = f"[{interval_s * 1000 - 1}ms]"
    sm_ns = (f'sum by (UUID, modelName, namespace) (last_over_time('
             f'gpufleet_process_sm_util{{vgpu!=""}}{now}))')
    sm_gpu = f'sum by (UUID) (last_over_time(gpufleet_process_sm_util{{vgpu!=""}}{now}))'
    pods_ns = (f'count by (UUID, modelName, namespace) (last_over_time('
               f'DCGM_FI_DEV_GPU_UTIL{{vgpu!="", pod!=""}}{now}))')
    pods_gpu = f'count by (UUID) (last_over_time(DCGM_FI_DEV_GPU_UTIL{{vgpu!="", pod!=""}}{now}))'
    return (f"({sm_ns} / on (UUID) group_left () ({sm_gpu} > 0)) or "
            f"(({pods_ns} / on (UUID) group_left () {pods_gpu}) "
            f"unless on (UUID) ({sm_gpu} > 0))")
    # END SOLUTION


def queries(window_s: int, interval_s: int = 30, shared: bool = True) -> dict[str, str]:
    """The PromQL queries the report runs at the end of the month.

    Whole GPUs and MIG instances (no `vgpu` label): `samples` counts every sample by
    namespace (no namespace: the GPU was free; dcgm-exporter's pod mapping sets namespace
    and pod together), so one pass gives both the allocated and the fleet's GPU-samples;
    `used` sums the utilisation of allocated samples. With `shared` (the fleet has
    time-slicing pools), the fair split of time-sliced GPUs (a subquery on the scrape grid)
    and their SM-utilisation use."""
    # BEGIN SOLUTION
    by = "namespace, modelName, GPU_I_PROFILE"
    out = {
        "samples": f'sum by ({by}) (count_over_time(DCGM_FI_DEV_GPU_UTIL{{vgpu=""}}'
                   f"[{window_s}s]))",
        "used": f'sum by ({by}) (sum_over_time(DCGM_FI_DEV_GPU_UTIL{{pod!="", vgpu=""}}'
                f"[{window_s}s]))",
    }
    if shared:
        out["shared_allocated"] = (f"sum by (namespace, modelName) (sum_over_time(("
                                   f"{shared_share_expr(interval_s)})"
                                   f"[{window_s}s:{interval_s}s]))")
        out["shared_used"] = (f'sum by (namespace, modelName) (sum_over_time('
                              f'gpufleet_process_sm_util{{vgpu!=""}}[{window_s}s]))')
    return out
    # END SOLUTION


def split_cents(exact: list[Decimal], total: Decimal) -> list[Decimal]:
    """Round each amount to cents so that they sum to `total` (largest remainder)."""
    # BEGIN SOLUTION
    floors = [(x / CENT).to_integral_value(rounding="ROUND_FLOOR") * CENT for x in exact]
    left = int(((total - sum(floors, Decimal(0))) / CENT).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (exact[i] - floors[i], -i), reverse=True)
    for i in order[:max(left, 0)]:
        floors[i] += CENT
    return floors
    # END SOLUTION


def build(fleet: Fleet, prom: PrometheusClient, month: str) -> Report:
    """Query Prometheus (every query, concurrently, before anything is computed or written)."""
    start, end = month_bounds(month)
    shared = any(p.time_slicing_replicas for p in fleet.pools)
    exprs = queries(end - start, fleet.scrape_interval_s, shared)
    with ThreadPoolExecutor(max_workers=len(exprs)) as pool:
        futures = {name: pool.submit(prom.query, expr, end - 1) for name, expr in exprs.items()}
        results = {name: future.result() for name, future in futures.items()}
    hours_per_sample = Decimal(fleet.scrape_interval_s) / Decimal(3600)
    # BEGIN SOLUTION
    def weight_price(metric: dict[str, str]) -> tuple[Decimal, Decimal]:
        model = model_by_dcgm_name(metric.get("modelName", ""))
        if model is None or model not in fleet.prices:
            raise FleetError(f"no price for GPU model {metric.get('modelName')!r}")
        weight = slice_weight(model, metric.get("GPU_I_PROFILE") or None)
        return weight, fleet.prices[model]

    allocated: dict[str, Decimal] = {}
    used: dict[str, Decimal] = {}
    cost: dict[str, Decimal] = {}
    fleet_hours, fleet_exact = Decimal(0), Decimal(0)
    for item in results["samples"]:
        ns = item["metric"].get("namespace", "")
        weight, price = weight_price(item["metric"])
        hours = Decimal(item["value"][1]) * hours_per_sample * weight
        fleet_hours += hours
        fleet_exact += hours * price
        if ns:
            allocated[ns] = allocated.get(ns, Decimal(0)) + hours
            cost[ns] = cost.get(ns, Decimal(0)) + hours * price
    for item in results.get("shared_allocated", []):
        ns = item["metric"].get("namespace", "")
        _, price = weight_price(item["metric"])
        hours = Decimal(item["value"][1]) * hours_per_sample
        allocated[ns] = allocated.get(ns, Decimal(0)) + hours
        cost[ns] = cost.get(ns, Decimal(0)) + hours * price
        fleet_hours += hours
        fleet_exact += hours * price
    for name, weighted in (("used", True), ("shared_used", False)):
        for item in results.get(name, []):
            ns = item["metric"].get("namespace", "")
            weight, _ = weight_price(item["metric"])
            hours = Decimal(item["value"][1]) / 100 * hours_per_sample \
                * (weight if weighted else 1)
            used[ns] = used.get(ns, Decimal(0)) + hours
    fleet_cost = fleet_exact.quantize(CENT, ROUND_HALF_UP)
    names = {t.namespace: t.name for t in fleet.teams}
    namespaces = [t.namespace for t in fleet.teams] + sorted(set(allocated) - set(names))
    exact = [cost.get(ns, Decimal(0)) for ns in namespaces]
    unallocated_hours = fleet_hours - sum(allocated.values(), Decimal(0))
    exact.append(fleet_exact - sum(exact, Decimal(0)))
    cents = split_cents(exact, fleet_cost)
    rows = [Row(names.get(ns, ns), ns, allocated.get(ns, Decimal(0)),
                used.get(ns, Decimal(0)), cents[i]) for i, ns in enumerate(namespaces)]
    rows.append(Row(UNALLOCATED, "", unallocated_hours, Decimal(0), cents[-1]))
    # END SOLUTION
    return Report(month, rows, fleet_cost, fleet_hours)


def _cells(row: Row) -> list[str]:
    return [row.team, row.namespace, f"{row.allocated:.2f}", f"{row.used:.2f}",
            f"{row.idle:.2f}", f"{row.cost:.2f}"]


def table_rows(report: Report) -> list[list[str]]:
    rows = [_cells(r) for r in report.rows]
    rows.append(["total", "", f"{report.total('allocated'):.2f}", f"{report.total('used'):.2f}",
                 f"{report.total('idle'):.2f}", f"{report.total('cost'):.2f}"])
    return rows


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(table_rows(report))
    return buffer.getvalue()


def to_markdown(report: Report) -> str:
    lines = [f"# GPU chargeback {report.month}", "", "| " + " | ".join(HEADERS) + " |",
             "|" + "---|" * 2 + "---:|" * 4]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    lines += ["", f"Fleet cost: ${report.fleet_cost:.2f} for "
                  f"{report.fleet_gpu_hours:.2f} GPU-hours."]
    return "\n".join(lines) + "\n"


def to_html(report: Report) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in table_rows(report))
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>GPU chargeback "
            f"{report.month}</title></head><body><h1>GPU chargeback {report.month}</h1>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>Fleet cost: ${report.fleet_cost:.2f}</p></body></html>\n")


FORMATS = {"csv": to_csv, "md": to_markdown, "html": to_html}


def write(report: Report, out_dir: Path, formats: tuple[str, ...] = ("csv", "md", "html")
          ) -> list[Path]:
    paths = []
    for fmt in formats:
        path = Path(out_dir) / f"chargeback-{report.month}.{fmt}"
        atomic_write_text(path, FORMATS[fmt](report))
        paths.append(path)
    return paths
