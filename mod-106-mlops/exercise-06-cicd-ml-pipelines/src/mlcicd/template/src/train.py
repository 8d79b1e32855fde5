"""train: fit the model on the prepared training set and save it with joblib."""

import sys
from pathlib import Path

import joblib
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from model import build, feature_columns  # noqa: E402

params = yaml.safe_load(Path("params.yaml").read_text())["train"]
train = pd.read_csv("data/prepared/train.csv")
features = feature_columns(list(train.columns))
model = build(params).fit(train[features], train["target"])
Path("models").mkdir(exist_ok=True)
joblib.dump({"model": model, "features": features}, "models/model.joblib")
print(f"train: {params['model']} on {len(train)} rows")
