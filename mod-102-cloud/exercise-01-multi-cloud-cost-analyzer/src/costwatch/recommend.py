"""Savings recommendations, each with an estimated monthly saving (after Komiser's waste
checks and AWS Compute Optimizer's rightsizing): idle resources, rightsizing from CPU,
commitment coverage of the steady baseline, buckets without lifecycle rules.

Pure: the AWS adapter collects an `Inventory`, the store gives the compute series, and
these rules turn them into `Recommendation`s with a price table (data/prices.json).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Volume:
    volume_id: str
    size_gb: int
    volume_type: str
    attached: bool
    region: str = "us-east-1"


@dataclass(frozen=True)
class Address:
    allocation_id: str
    public_ip: str
    associated: bool
    region: str = "us-east-1"


@dataclass(frozen=True)
class Instance:
    instance_id: str
    instance_type: str
    state: str
    stopped_since: datetime | None = None
    volumes: tuple[Volume, ...] = ()
    cpu_max: float | None = None  # highest hourly max CPU% over the lookback
    region: str = "us-east-1"


@dataclass(frozen=True)
class Endpoint:
    name: str
    instance_type: str
    instance_count: int
    invocations: float
    region: str = "us-east-1"


@dataclass(frozen=True)
class Bucket:
    name: str
    has_lifecycle: bool
    size_gb: float


@dataclass
class Inventory:
    volumes: list[Volume] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)


@dataclass(frozen=True)
class Recommendation:
    kind: str
    resource_id: str
    monthly_savings: float
    action: str
    detail: str
    provider: str = "AWS"
    region: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["monthly_savings"] = round(self.monthly_savings, 2)
        return out


@dataclass(frozen=True)
class Rules:
    stopped_days: int = 14
    cpu_rightsize_below: float = 40.0  # max CPU% under which half the size suffices
    lifecycle_cold_fraction: float = 0.5  # share of a bucket assumed rarely read


def load_prices() -> dict[str, Any]:
    text = resources.files("costwatch").joinpath("data/prices.json").read_text()
    prices: dict[str, Any] = json.loads(text)
    return prices


def smaller_type(instance_type: str, prices: dict[str, Any]) -> str | None:
    """One size down in the same family, if it has a price: m5.2xlarge -> m5.xlarge."""
    family, _, size = instance_type.partition(".")
    sizes: list[str] = prices["sizes"]
    if size not in sizes:
        return None
    for smaller in reversed(sizes[: sizes.index(size)]):
        candidate = f"{family}.{smaller}"
        if candidate in prices["ec2_hourly"]:
            return candidate
    return None


def recommend(inventory: Inventory, now: datetime, prices: dict[str, Any] | None = None,
              rules: Rules | None = None) -> list[Recommendation]:
    """All inventory-based recommendations, largest saving first."""
    # BEGIN SOLUTION: one rule per waste pattern, each priced from the price table
    p = prices or load_prices()
    r = rules or Rules()
    hours = float(p["hours_per_month"])
    out: list[Recommendation] = []
    for vol in inventory.volumes:
        if not vol.attached:
            price = p["ebs_gb_month"].get(vol.volume_type, p["ebs_gb_month"]["gp2"])
            out.append(Recommendation(
                "unattached-volume", vol.volume_id, vol.size_gb * price,
                "snapshot and delete the volume",
                f"{vol.size_gb} GiB {vol.volume_type} not attached to any instance",
                region=vol.region))
    for addr in inventory.addresses:
        if not addr.associated:
            out.append(Recommendation(
                "idle-elastic-ip", addr.allocation_id, p["eip_idle_hourly"] * hours,
                "release the address", f"{addr.public_ip} is not associated",
                region=addr.region))
    for inst in inventory.instances:
        if inst.state == "stopped" and inst.stopped_since is not None:
            days = (now - inst.stopped_since).days
            if days >= r.stopped_days:
                storage = sum(v.size_gb * p["ebs_gb_month"].get(v.volume_type, 0.10)
                              for v in inst.volumes)
                out.append(Recommendation(
                    "long-stopped-instance", inst.instance_id, storage,
                    "snapshot the volumes and terminate the instance",
                    f"{inst.instance_type} stopped for {days} days; its EBS volumes "
                    f"still bill", region=inst.region))
        elif (inst.state == "running" and inst.cpu_max is not None
              and inst.cpu_max < r.cpu_rightsize_below):
            target = smaller_type(inst.instance_type, p)
            current = p["ec2_hourly"].get(inst.instance_type)
            if target and current:
                saving = (current - p["ec2_hourly"][target]) * hours
                out.append(Recommendation(
                    "rightsize-instance", inst.instance_id, saving,
                    f"resize {inst.instance_type} -> {target}",
                    f"max CPU {inst.cpu_max:.0f}% over the lookback", region=inst.region))
    for ep in inventory.endpoints:
        if ep.invocations == 0:
            hourly = p["sagemaker_hourly"].get(ep.instance_type, 0.0)
            out.append(Recommendation(
                "idle-sagemaker-endpoint", ep.name, hourly * ep.instance_count * hours,
                "delete the endpoint (or use serverless inference)",
                f"{ep.instance_count} x {ep.instance_type}, zero invocations",
                region=ep.region))
    for bucket in inventory.buckets:
        if not bucket.has_lifecycle:
            delta = p["s3_gb_month"]["STANDARD"] - p["s3_gb_month"]["STANDARD_IA"]
            out.append(Recommendation(
                "bucket-without-lifecycle", bucket.name,
                bucket.size_gb * r.lifecycle_cold_fraction * delta,
                "add a lifecycle rule (transition to STANDARD_IA after 30 days)",
                f"{bucket.size_gb:.3f} GB, no lifecycle configuration"))
    return sorted(out, key=lambda rec: (-rec.monthly_savings, rec.kind, rec.resource_id))
    # END SOLUTION


def commitment_coverage(daily_on_demand: dict[Any, float], daily_covered: dict[Any, float],
                        provider: str, prices: dict[str, Any] | None = None
                        ) -> Recommendation | None:
    """Commit to the steady baseline of on-demand compute that no commitment covers yet.

    The baseline is the 10th percentile of daily on-demand spend: what runs every day, so
    a 1-year commitment at it is used fully. Coverage is covered / (covered + on-demand).
    """
    # BEGIN SOLUTION: p10 of daily on-demand spend as baseline, coverage, savings
    p = prices or load_prices()
    days = sorted(daily_on_demand)
    if len(days) < 14:
        return None
    values = sorted(daily_on_demand[d] for d in days)
    baseline_daily = values[int(0.1 * (len(values) - 1))]
    if baseline_daily <= 0:
        return None
    covered = sum(daily_covered.values())
    total = covered + sum(values)
    coverage = covered / total if total else 0.0
    hourly = baseline_daily / 24
    saving = baseline_daily * 30.4 * float(p["savings_plan_discount"])
    return Recommendation(
        "commitment-coverage", f"{provider}:compute", saving,
        f"commit ${hourly:.2f}/hour (1-year, no upfront)",
        f"coverage {coverage:.0%}; steady baseline ${baseline_daily:.2f}/day of on-demand "
        f"compute over {len(days)} days", provider=provider)
    # END SOLUTION


def since(reason: str) -> datetime | None:
    """Parse EC2's StateTransitionReason 'User initiated (2026-10-01 12:00:00 GMT)'."""
    if "(" not in reason:
        return None
    stamp = reason.rsplit("(", 1)[1].rstrip(")").replace(" GMT", "").replace(" UTC", "")
    try:
        return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
