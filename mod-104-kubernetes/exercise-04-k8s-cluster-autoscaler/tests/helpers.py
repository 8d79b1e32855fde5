"""Paths and small builders shared by the tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXE = str(Path(sys.executable).parent / "autoscale")


def policy_dict() -> dict[str, Any]:
    return dict(yaml.safe_load((EXAMPLES / "policy.yaml").read_text()))


def cluster_dict() -> dict[str, Any]:
    return dict(yaml.safe_load((EXAMPLES / "cluster.yaml").read_text()))
