"""Monthly chargeback from Prometheus: allocated, used and idle GPU-hours and cost per team.

Allocated hours count dcgm samples with a pod (x interval); MIG instances weigh their share
of compute slices. Cost is allocated hours x the model's price; the fleet's cost is every
GPU-hour of the month, the remainder is the "(unallocated)" row. Cents are split by largest
remainder so the rows add up to the fleet cost exactly."""

from __future__ import annotations

import csv
import html
import io
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


def queries(window_s: int) -> dict[str, str]:
    """The three PromQL queries the report runs at the end of the month."""
    # BEGIN SOLUTION
    by = "namespace, modelName, GPU_I_PROFILE"
    return {
        "allocated": f'sum by ({by}) (count_over_time(DCGM_FI_DEV_GPU_UTIL{{pod!=""}}'
                     f"[{window_s}s]))",
        "used": f'sum by ({by}) (sum_over_time(DCGM_FI_DEV_GPU_UTIL{{pod!=""}}[{window_s}s]))',
        "all": f"sum by (modelName, GPU_I_PROFILE) (count_over_time(DCGM_FI_DEV_GPU_UTIL"
               f"[{window_s}s]))",
    }
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
    """Query Prometheus (every query before anything is computed or written)."""
    start, end = month_bounds(month)
    results = {name: prom.query(expr, at=end - 1) for name, expr in queries(end - start).items()}
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
    for item in results["allocated"]:
        ns = item["metric"].get("namespace", "")
        weight, price = weight_price(item["metric"])
        hours = Decimal(item["value"][1]) * hours_per_sample * weight
        allocated[ns] = allocated.get(ns, Decimal(0)) + hours
        cost[ns] = cost.get(ns, Decimal(0)) + hours * price
    for item in results["used"]:
        ns = item["metric"].get("namespace", "")
        weight, _ = weight_price(item["metric"])
        hours = Decimal(item["value"][1]) / 100 * hours_per_sample * weight
        used[ns] = used.get(ns, Decimal(0)) + hours
    fleet_hours, fleet_exact = Decimal(0), Decimal(0)
    for item in results["all"]:
        weight, price = weight_price(item["metric"])
        hours = Decimal(item["value"][1]) * hours_per_sample * weight
        fleet_hours += hours
        fleet_exact += hours * price
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
