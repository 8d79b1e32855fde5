"""The shipped sample price table (data/prices.yaml): instance types, allocatable resources,
on-demand and spot prices per node-hour."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import cache

import yaml

from autoscale.errors import InputError


@dataclass(frozen=True)
class InstanceType:
    name: str
    cpu: float
    memory: float
    gpu: int
    on_demand: float
    spot: float

    def price(self, spot: bool) -> float:
        return self.spot if spot else self.on_demand


@cache
def table() -> dict[str, InstanceType]:
    text = importlib.resources.files("autoscale").joinpath("data/prices.yaml").read_text()
    raw = yaml.safe_load(text)["instanceTypes"]
    return {name: InstanceType(name, float(v["cpu"]), float(v["memory"]), int(v["gpu"]),
                               float(v["onDemand"]), float(v["spot"]))
            for name, v in raw.items()}


def lookup(name: str) -> InstanceType:
    try:
        return table()[name]
    except KeyError:
        known = ", ".join(sorted(table()))
        raise InputError(f"unknown instance type {name!r} (price table has: {known})") from None
