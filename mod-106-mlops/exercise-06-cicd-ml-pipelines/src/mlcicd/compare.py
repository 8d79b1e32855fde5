"""Gathering what `report` and `gate` compare: DVC's diffs and both runs' predictions."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mlcicd.adapters.dvc import Dvc
from mlcicd.adapters.git import Git
from mlcicd.errors import ConfigInvalidError
from mlcicd.gate import GateConfig, GateResult, evaluate, parse_config

PREDICTIONS = "reports/predictions.csv"
METRICS = "metrics.json"


@dataclass(frozen=True)
class Diffs:
    base: str
    base_sha: str
    head_sha: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    data: dict[str, Any]
    plots: list[str]


def collect_diffs(root: Path, base: str, timeout: float = 600.0) -> Diffs:
    """`dvc metrics diff`, `params diff`, `diff` and `plots diff` of the workspace vs `base`."""
    git = Git(root)
    base_sha = git.resolve(base)
    dvc = Dvc(root, timeout)
    metrics = dvc.json("metrics", "diff", base_sha)
    params = dvc.json("params", "diff", base_sha)
    data = dvc.json("diff", base_sha)
    plots_out = root / "reports" / "plots"
    dvc("plots", "diff", base_sha, "-o", str(plots_out))
    plots = sorted(_plot_names(root))
    return Diffs(base, base_sha, git.head(), metrics, params, data, plots)


def _plot_names(root: Path) -> list[str]:
    spec = yaml.safe_load((root / "dvc.yaml").read_text()) or {}
    names = []
    for stage in (spec.get("stages") or {}).values():
        for entry in stage.get("plots") or []:
            names.append(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return names


def load_gate_config(path: Path) -> GateConfig:
    if not path.exists():
        raise ConfigInvalidError(f"gate config {path} not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigInvalidError(f"{path.name}: invalid YAML ({type(exc).__name__})") from exc
    return parse_config(data, path.name)


def run_gate(root: Path, base: str, config: GateConfig) -> tuple[str, GateResult]:
    """Base metrics and predictions from git at `base`, candidate ones from the workspace."""
    git = Git(root)
    base_sha = git.resolve(base)
    base_metrics_text = git.show(base_sha, METRICS)
    if base_metrics_text is None:
        raise ConfigInvalidError(f"{METRICS} is not committed at {base}: "
                                 f"run the pipeline on {base} first")
    candidate_path = root / METRICS
    if not candidate_path.exists():
        raise ConfigInvalidError(f"{METRICS} is missing: run `dvc repro` first")
    base_metrics = _numbers(json.loads(base_metrics_text))
    candidate = _numbers(json.loads(candidate_path.read_text()))
    base_pred_text = git.show(base_sha, PREDICTIONS)
    base_pred = pd.read_csv(io.StringIO(base_pred_text)) if base_pred_text else None
    cand_path = root / PREDICTIONS
    cand_pred = pd.read_csv(cand_path) if cand_path.exists() else None
    return base_sha, evaluate(config, base_metrics, candidate, base_pred, cand_pred)


def _numbers(data: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in data.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}
