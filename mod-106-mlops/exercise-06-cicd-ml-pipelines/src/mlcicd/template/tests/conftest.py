"""Fixtures for the model tests: the trained model and the held-out data of the last repro."""

import os
import sys
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


@pytest.fixture(scope="session")
def bundle() -> dict[str, Any]:
    # MODEL_PATH: test another model file against the same expectations (CI of a candidate)
    return joblib.load(os.environ.get("MODEL_PATH", ROOT / "models" / "model.joblib"))


@pytest.fixture(scope="session")
def test_set() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "prepared" / "test.csv")


@pytest.fixture(scope="session")
def train_set() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "prepared" / "train.csv")


@pytest.fixture(scope="session")
def params() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "params.yaml").read_text())
