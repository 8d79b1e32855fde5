from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gpufleet import __version__
from gpufleet.cli import cli
from tests.helpers import fleet_dict, run_cli, write_fleet


@pytest.mark.points(1)
def test_version_and_help_through_the_entry_point() -> None:
    assert __version__ in CliRunner().invoke(cli, ["--version"]).output
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("validate", "render", "exporter", "backfill", "report", "simulate",
                    "controller", "monitoring"):
        assert command in result.stdout


@pytest.mark.points(1)
def test_validate_accepts_the_example() -> None:
    result = run_cli("validate", "--fleet", "examples/fleet.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 3 pools (26 GPUs), 3 teams")


def _bad(mutate: Any) -> dict[str, Any]:
    data = fleet_dict()
    mutate(data)
    return data


BAD = {
    "unknown model": (lambda d: d["pools"][0].update(model="H200-141GB"),
                      "pools.0: unknown GPU model 'H200-141GB'"),
    "negative quota": (lambda d: d["teams"][1]["quota"].update(h100=-1),
                       "teams.1: quota.h100: must be >= 0"),
    "borrowingLimit without cohort": (lambda d: d["teams"][2].update(borrowingLimit=2,
                                                                      cohort=None),
                                      "teams.2: borrowingLimit: must be nil when cohort is empty"),
    "MIG over 7 slices": (lambda d: d["pools"][1].update(mig={"2g.20gb": 4}),
                          "pools.1: MIG layout uses 8 compute slices, H100-80GB has at most 7"),
    "unknown MIG profile": (lambda d: d["pools"][1].update(mig={"1g.5gb": 7}),
                            "pools.1: unknown MIG profile '1g.5gb'"),
    "quota over capacity": (lambda d: d["teams"][0]["quota"].update(h100=16),
                            "pools.h100: teams' nominal quota 22 exceeds its capacity 16"),
    "missing price": (lambda d: d["prices"].pop("L4"), "prices.L4: missing price"),
    "unknown field": (lambda d: d["teams"][0].update(quotas={}), "teams.0.quotas: Extra inputs"),
    "two MIG profiles under single": (
        lambda d: d["pools"][1].update(mig={"3g.40gb": 1, "1g.10gb": 4}),
        "pools.h100-mig: mig.strategy single needs one MIG profile per pool"),
    "mixed layout over 7 slices": (
        lambda d: (d.update(mig={"strategy": "mixed"}),
                   d["pools"][1].update(mig={"3g.40gb": 2, "2g.20gb": 1}),
                   [t["quota"].pop("h100-mig") for t in d["teams"]]),
        "pools.1: MIG layout uses 8 compute slices, H100-80GB has at most 7"),
    "mixed quota not per profile": (
        lambda d: d.update(mig={"strategy": "mixed"}),
        "teams.1.quota.h100-mig: under mig.strategy mixed give the quota per profile"),
    "profile not in the layout": (
        lambda d: (d.update(mig={"strategy": "mixed"}),
                   [t["quota"].pop("h100-mig") for t in d["teams"]],
                   d["teams"][1]["quota"].update({"h100-mig/3g.40gb": 1})),
        "teams.1.quota.h100-mig/3g.40gb: profile 3g.40gb is not in the pool's layout"),
    "unknown scheduler": (lambda d: d.update(scheduler="slurm"), "scheduler: Input should be"),
}


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_fleet_is_one_line_naming_the_field_exit_3(case: str, tmp_path: Path) -> None:
    mutate, expected = BAD[case]
    path = write_fleet(tmp_path / "fleet.yaml", _bad(mutate))
    result = run_cli("validate", "--fleet", str(path))
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: fleet.yaml: ")
    assert expected in lines[0]


@pytest.mark.points(1)
@pytest.mark.hidden
def test_render_of_a_bad_fleet_writes_nothing(tmp_path: Path) -> None:
    path = write_fleet(tmp_path / "fleet.yaml",
                       _bad(lambda d: d["pools"][1].update(mig={"4g.40gb": 2})))
    result = run_cli("render", "--fleet", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 3
    assert not (tmp_path / "out").exists()


@pytest.mark.points(1)
def test_unreadable_or_invalid_yaml_exit_3(tmp_path: Path) -> None:
    assert run_cli("validate", "--fleet", str(tmp_path / "missing.yaml")).returncode == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("pools: [\n")
    result = run_cli("validate", "--fleet", str(bad))
    assert result.returncode == 3 and "invalid YAML" in result.stderr
