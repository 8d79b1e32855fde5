"""fleet.yaml -> chart values -> manifests rendered and linted by Helm (helm-python-sdk),
then validated (validation.py). Written atomically: one file per template and `all.yaml`."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from aiinfra_shared.io import atomic_write_text

from gpufleet import validation
from gpufleet.errors import FleetError
from gpufleet.fleet import GPU_RESOURCE, Fleet, Pool, Team
from gpufleet.profiles import MODELS
from gpufleet.rules import Durations, rule_groups

POOL_LABEL = "gpufleet.io/pool"
PRODUCT_LABEL = "nvidia.com/gpu.product"
DEFAULT_DURATIONS = Durations()


def node_labels(pool: Pool, strategy: str = "single") -> dict[str, str]:
    """Labels a pool's nodes carry: GPU Feature Discovery's product label as it reports it
    (`-MIG-<profile>` under MIG `single`, `-SHARED` under time-slicing, the plain product
    under MIG `mixed`, where the profiles are resources of their own), plus the pool and the
    configs it selects."""
    # BEGIN SOLUTION
    product = MODELS[pool.model].product
    labels = {POOL_LABEL: pool.name}
    if pool.mig:
        if strategy == "mixed":
            labels[PRODUCT_LABEL] = product
        else:
            (profile,) = pool.mig
            labels[PRODUCT_LABEL] = f"{product}-MIG-{profile}"
        labels["nvidia.com/mig.config"] = pool.name
    elif pool.time_slicing_replicas:
        labels[PRODUCT_LABEL] = f"{product}-SHARED"
        labels["nvidia.com/device-plugin.config"] = pool.name
    else:
        labels[PRODUCT_LABEL] = product
    # END SOLUTION
    return labels


def per_node_units(pool: Pool, strategy: str = "single") -> dict[str, int]:
    """Allocatable units of each resource on one (full) node of the pool."""
    gpus = min(pool.gpus_per_node, pool.gpus)
    return {name: units // pool.gpus * gpus for name, units in pool.resources(strategy).items()}


def _profile(resource: str) -> str | None:
    return resource.removeprefix("nvidia.com/mig-") if resource != GPU_RESOURCE else None


def resource_ceilings(fleet: Fleet, team: Team) -> dict[str, int]:
    """Most of each resource a team can hold: nominal without a cohort, else nominal plus
    borrowingLimit (unlimited without one), capped by what the pool has."""
    # BEGIN SOLUTION
    ceilings: dict[str, int] = {}
    for pool in fleet.pools:
        for resource, units in pool.resources(fleet.mig.strategy).items():
            nominal = team.quota_for(pool.name, _profile(resource))
            if team.cohort is None:
                most = nominal
            elif team.borrowing_limit is None:
                most = units
            else:
                most = min(units, nominal + team.borrowing_limit)
            ceilings[resource] = ceilings.get(resource, 0) + most
    return ceilings
    # END SOLUTION


def resource_groups(fleet: Fleet, team: Team) -> list[dict[str, Any]]:
    """The ClusterQueue's resourceGroups: pools exposing `nvidia.com/gpu` in one group, MIG
    pools under `mixed` in another covering every profile resource (a flavor lists all of
    them, 0 for profiles not in its layout, as Kueue needs the same resources per group)."""
    # BEGIN SOLUTION
    strategy = fleet.mig.strategy
    by_group: dict[bool, list[Pool]] = {False: [], True: []}
    for pool in fleet.pools:
        by_group[bool(pool.mig) and strategy == "mixed"].append(pool)
    groups = []
    for is_mig, pools in by_group.items():
        if not pools:
            continue
        covered = sorted({r for p in pools for r in p.resources(strategy)}) if is_mig \
            else [GPU_RESOURCE]
        flavors = []
        for pool in pools:
            resources = []
            for resource in covered:
                in_pool = resource in pool.resources(strategy)
                nominal = team.quota_for(pool.name, _profile(resource)) if in_pool else 0
                quota: dict[str, Any] = {"name": resource, "nominalQuota": nominal}
                if team.borrowing_limit is not None:
                    quota["borrowingLimit"] = team.borrowing_limit
                if team.lending_limit is not None:
                    quota["lendingLimit"] = min(team.lending_limit, nominal)
                resources.append(quota)
            flavors.append({"name": pool.name, "resources": resources})
        groups.append({"coveredResources": covered, "flavors": flavors})
    return groups
    # END SOLUTION


def volcano_queue(fleet: Fleet, team: Team) -> dict[str, Any]:
    """A Volcano `Queue` spec for a team (scheduler: volcano). Mapping from the Kueue model:
    `deserved` = nominal quota, `capability` = the team's ceiling (nominal + borrowingLimit,
    capped by the pools), `guarantee` = the part of the nominal quota it does not lend
    (nominal - lendingLimit; nothing without a lendingLimit), `weight` = the total nominal
    quota (the proportion plugin's share, 1..65535), `priority` = the team's priority,
    `reclaimable` = in a cohort (what it borrows beyond `deserved` can be taken back, as
    Kueue's reclaimWithinCohort: Any does)."""
    # BEGIN SOLUTION
    deserved: dict[str, int] = {}
    kept: dict[str, int] = {}
    for pool in fleet.pools:
        for resource in pool.resources(fleet.mig.strategy):
            nominal = team.quota_for(pool.name, _profile(resource))
            deserved[resource] = deserved.get(resource, 0) + nominal
            lend = nominal if team.lending_limit is None else min(team.lending_limit, nominal)
            kept[resource] = kept.get(resource, 0) + nominal - lend
    spec: dict[str, Any] = {
        "weight": max(1, min(65535, sum(deserved.values()))),
        "priority": team.priority,
        "reclaimable": team.cohort is not None,
        "deserved": {k: str(v) for k, v in sorted(deserved.items())},
        "capability": {k: str(v) for k, v in sorted(resource_ceilings(fleet, team).items())},
    }
    if any(kept.values()):
        spec["guarantee"] = {"resource": {k: str(v) for k, v in sorted(kept.items()) if v}}
    return spec
    # END SOLUTION


def team_values(fleet: Fleet, team: Team, hold: bool = False) -> dict[str, Any]:
    # BEGIN SOLUTION
    strategy = fleet.mig.strategy
    limit_max: dict[str, int] = {}
    for pool in fleet.pools:
        for resource, units in per_node_units(pool, strategy).items():
            limit_max[resource] = max(limit_max.get(resource, 0), units)
    values: dict[str, Any] = {
        "name": team.name, "namespace": team.namespace,
        "resourceGroups": resource_groups(fleet, team),
        "quotaHard": {f"requests.{k}": str(v)
                      for k, v in sorted(resource_ceilings(fleet, team).items())},
        "limitMax": {k: str(v) for k, v in sorted(limit_max.items())},
        "stopPolicy": "Hold" if hold else "None",
        "priorityClassName": f"gpufleet-{team.name}",
    }
    if team.cohort:
        values["cohort"] = team.cohort
    if fleet.scheduler == "volcano":
        values["volcanoQueue"] = volcano_queue(fleet, team)
    return values
    # END SOLUTION


def chart_values(fleet: Fleet, durations: Durations = DEFAULT_DURATIONS,
                 held: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The chart's values for this fleet (checked against values.schema.json by Helm)."""
    # BEGIN SOLUTION
    return {
        "cluster": fleet.cluster,
        "operatorNamespace": "gpu-operator",
        "gpuOperator": {
            "driver": {"enabled": True}, "toolkit": {"enabled": True},
            "dcgmExporter": {"enabled": True, "serviceMonitor": {
                "enabled": True, "interval": f"{fleet.scrape_interval_s}s"}},
            "migStrategy": fleet.mig.strategy,
            "timeSlicing": {p.name: p.time_slicing_replicas for p in fleet.pools
                            if p.time_slicing_replicas},
            "migConfigs": {p.name: dict(p.mig) for p in fleet.pools if p.mig},
        },
        "scheduler": fleet.scheduler,
        "pools": [{"name": p.name, "nodeLabels": node_labels(p, fleet.mig.strategy),
                   "resource": next(iter(p.resources(fleet.mig.strategy)))}
                  for p in fleet.pools],
        "teams": [team_values(fleet, t, t.name in held) for t in fleet.teams],
        "priorityClasses": [{"name": f"gpufleet-{t.name}", "value": t.priority,
                             "description": f"GPU workloads of team {t.name}"}
                            for t in fleet.teams],
        "rules": rule_groups(fleet, durations),
    }
    # END SOLUTION


@contextlib.contextmanager
def chart_dir() -> Iterator[Path]:
    """The packaged chart as a real directory (Helm reads files)."""
    source = resources.files("gpufleet").joinpath("chart")
    with resources.as_file(source) as path:
        yield Path(path)


@dataclass
class Rendered:
    files: dict[str, str]  # template name -> manifest text
    documents: list[dict[str, Any]]
    lint: dict[str, Any]

    def by_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.documents if d.get("kind") == kind]


def render(fleet: Fleet, durations: Durations = DEFAULT_DURATIONS,
           held: frozenset[str] = frozenset(), check: bool = True) -> Rendered:
    """Render the chart for `fleet`; lint it strictly and validate every manifest."""
    values = chart_values(fleet, durations, held)
    with chart_dir() as path:
        chart = helm.Chart.load(str(path))
        try:
            chart.validate_schema(values)
            files = chart.render(values, name="gpufleet", namespace="gpu-operator",
                                 is_install=True)
        except helm.HelmError as exc:
            raise FleetError(f"helm: {str(exc).splitlines()[0]}") from exc
        report = helm.lint(str(path), values, strict=True)
    problems = [m for m in report.get("messages") or [] if int(m.get("severity", 0)) >= 2]
    if report.get("errors") or problems:
        first = (report.get("errors") or [m.get("error") for m in problems])[0]
        raise FleetError(f"helm lint: {first}")
    rendered = {name.split("/templates/", 1)[-1]: text for name, text in sorted(files.items())
                if name.endswith(".yaml") and text.strip()}
    documents = [d for text in rendered.values() for d in yaml.safe_load_all(text) if d]
    if check:
        mig_models = {p.name: p.model for p in fleet.pools if p.mig}
        errors = validation.validate_all(documents, mig_models)
        if errors:
            raise FleetError(errors[0])
    return Rendered(rendered, documents, report)


def write(rendered: Rendered, out: Path) -> list[Path]:
    """Write each template's manifests plus `all.yaml`, atomically (a bad render writes none)."""
    out = Path(out)
    written = []
    for name, text in rendered.files.items():
        target = out / name
        atomic_write_text(target, text.strip() + "\n")
        written.append(target)
    everything = "\n---\n".join(yaml.safe_dump(d, sort_keys=False) for d in rendered.documents)
    atomic_write_text(out / "all.yaml", everything)
    written.append(out / "all.yaml")
    return written


def copy_chart(out: Path) -> Path:
    """Copy the chart (templates, values.schema.json) into `out/chart` for helm install."""
    with chart_dir() as path, tempfile.TemporaryDirectory(dir=Path(out).parent) as tmp:
        staged = Path(tmp) / "chart"
        shutil.copytree(path, staged)
        target = Path(out) / "chart"
        if target.exists():
            shutil.rmtree(target)
        staged.replace(target)
    return target
