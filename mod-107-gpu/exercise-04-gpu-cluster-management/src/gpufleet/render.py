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
from gpufleet.fleet import Fleet, Pool, Team
from gpufleet.profiles import MODELS
from gpufleet.rules import Durations, rule_groups

POOL_LABEL = "gpufleet.io/pool"
PRODUCT_LABEL = "nvidia.com/gpu.product"
DEFAULT_DURATIONS = Durations()


def node_labels(pool: Pool) -> dict[str, str]:
    """Labels a pool's nodes carry (GPU Feature Discovery's product label, as it reports it
    under MIG `single` strategy and time-slicing, plus the pool and the configs it selects)."""
    # BEGIN SOLUTION
    product = MODELS[pool.model].product
    labels = {POOL_LABEL: pool.name}
    if pool.mig:
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


def per_node_units(pool: Pool) -> int:
    if pool.mig:
        return pool.gpus_per_node * sum(pool.mig.values())
    return pool.gpus_per_node * (pool.time_slicing_replicas or 1)


def team_values(fleet: Fleet, team: Team, hold: bool = False) -> dict[str, Any]:
    # BEGIN SOLUTION
    flavors: list[dict[str, Any]] = []
    ceiling = 0
    for pool in fleet.pools:
        nominal = team.quota.get(pool.name, 0)
        flavor: dict[str, Any] = {"name": pool.name, "nominalQuota": nominal}
        if team.borrowing_limit is not None:
            flavor["borrowingLimit"] = team.borrowing_limit
        if team.lending_limit is not None:
            flavor["lendingLimit"] = min(team.lending_limit, nominal)
        flavors.append(flavor)
        if team.cohort is None:
            ceiling += nominal
        elif team.borrowing_limit is None:
            ceiling += pool.capacity
        else:
            ceiling += min(pool.capacity, nominal + team.borrowing_limit)
    values: dict[str, Any] = {
        "name": team.name, "namespace": team.namespace, "flavors": flavors,
        "gpuQuota": ceiling, "stopPolicy": "Hold" if hold else "None",
        "maxGpusPerContainer": max(per_node_units(p) for p in fleet.pools),
        "priorityClassName": f"gpufleet-{team.name}",
    }
    if team.cohort:
        values["cohort"] = team.cohort
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
            "migStrategy": "single",
            "timeSlicing": {p.name: p.time_slicing_replicas for p in fleet.pools
                            if p.time_slicing_replicas},
            "migConfigs": {p.name: dict(p.mig) for p in fleet.pools if p.mig},
        },
        "pools": [{"name": p.name, "nodeLabels": node_labels(p)} for p in fleet.pools],
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
