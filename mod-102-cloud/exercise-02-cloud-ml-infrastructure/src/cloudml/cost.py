"""Monthly cost of what a plan leaves running, from a dated price table (Infracost-style).

Why not Infracost: it has no price for `aws_sagemaker_endpoint` (infracost#2733), which is
often the largest line of an ML bill. Here the endpoint is priced from the production
variants of its endpoint configuration (instance type x count x hours + ML storage), and
every resource is accounted for: priced, usage-based (listed, needs usage to price), free, or
unpriced (named, so a missing price is never a silent zero).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudml.price_table import PriceTable


@dataclass(frozen=True)
class CostLine:
    address: str
    type: str
    monthly: float
    detail: str


@dataclass
class CostReport:
    """Monthly cost of the resources a plan leaves in place."""

    as_of: str
    currency: str
    lines: list[CostLine] = field(default_factory=list)
    usage_based: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "currency": self.currency, "total": self.total,
                "lines": [line.__dict__ for line in self.lines],
                "usage_based": self.usage_based, "unpriced": self.unpriced}


def planned_resources(plan: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Managed resources of `planned_values` (what exists after apply), all modules deep."""
    stack = [plan.get("planned_values", {}).get("root_module", {})]
    while stack:
        module = stack.pop()
        for resource in module.get("resources", []):
            if resource.get("mode", "managed") == "managed":
                yield resource
        stack.extend(module.get("child_modules", []))


def price_plan(plan: Mapping[str, Any], table: PriceTable) -> CostReport:
    """Price every resource in the plan's planned values (sorted by address)."""
    report = CostReport(as_of=table.as_of, currency=table.currency)
    resources = sorted(planned_resources(plan), key=lambda r: str(r["address"]))
    configs = {r["values"].get("name"): r["values"] for r in resources
               if r["type"] == "aws_sagemaker_endpoint_configuration"}
    for resource in resources:
        priced = price_resource(resource, table, configs)
        if isinstance(priced, CostLine):
            report.lines.append(priced)
        elif priced == "usage":
            report.usage_based.append(resource["address"])
        elif priced != "free":
            report.unpriced.append(f"{resource['address']} ({priced})")
    return report


def price_resource(resource: Mapping[str, Any], table: PriceTable,
                   endpoint_configs: Mapping[Any, Mapping[str, Any]]) -> CostLine | str:
    """A CostLine, or "free", "usage", or the reason it cannot be priced."""
    kind, address = str(resource["type"]), str(resource["address"])
    values = resource.get("values") or {}
    hours = table.hours_per_month
    # BEGIN SOLUTION: hourly/monthly; endpoint from its config's variants; notebook; free/usage
    if kind in table.hourly:
        return CostLine(address, kind, round(table.hourly[kind] * hours, 2),
                        f"{table.hourly[kind]}/h x {hours:g} h")
    if kind in table.monthly:
        return CostLine(address, kind, round(table.monthly[kind], 2), "per month")
    if kind == "aws_sagemaker_endpoint":
        config = endpoint_configs.get(values.get("endpoint_config_name"))
        if config is None:
            return "endpoint configuration not in the plan"
        total, parts = 0.0, []
        for variant in config.get("production_variants") or []:
            instance = variant.get("instance_type")
            count = int(variant.get("initial_instance_count") or 0)
            if instance not in table.sagemaker_hosting:
                return f"no hosting price for {instance}"
            gb = float(variant.get("volume_size_in_gb") or 0)
            total += count * (table.sagemaker_hosting[instance] * hours
                              + gb * table.sagemaker_storage_gb_month)
            parts.append(f"{count} x {instance}" + (f" + {gb:g} GB" if gb else ""))
        return CostLine(address, kind, round(total, 2), ", ".join(parts))
    if kind == "aws_sagemaker_notebook_instance":
        instance = values.get("instance_type")
        if instance not in table.sagemaker_notebook:
            return f"no notebook price for {instance}"
        gb = float(values.get("volume_size") or 5)
        total = table.sagemaker_notebook[instance] * hours + gb * table.sagemaker_storage_gb_month
        return CostLine(address, kind, round(total, 2), f"{instance} + {gb:g} GB")
    if kind in table.free:
        return "free"
    if kind in table.usage_based:
        return "usage"
    return "no price in the table"
    # END SOLUTION


def delta(current: CostReport, previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """Change against the last applied plan's report (`as_dict()` form); None: first apply."""
    before = {} if previous is None else {
        line["address"]: float(line["monthly"]) for line in previous.get("lines", [])}
    after = {line.address: line.monthly for line in current.lines}
    changed = {address: round(after.get(address, 0.0) - before.get(address, 0.0), 2)
               for address in sorted(set(before) | set(after))
               if round(after.get(address, 0.0) - before.get(address, 0.0), 2) != 0}
    previous_total = None if previous is None else float(previous.get("total", 0.0))
    return {"previous_total": previous_total,
            "total_delta": round(current.total - (previous_total or 0.0), 2),
            "by_resource": changed}
