"""prepare: split the raw breast-cancer table into train and test sets (stratified, seeded)."""

from pathlib import Path

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
raw = pd.read_csv("data/raw/breast_cancer.csv")
train, test = train_test_split(raw, test_size=params["test_size"], random_state=params["seed"],
                               stratify=raw["target"])
out = Path("data/prepared")
out.mkdir(parents=True, exist_ok=True)
train.sort_values("id").to_csv(out / "train.csv", index=False)
test.sort_values("id").to_csv(out / "test.csv", index=False)
print(f"prepare: {len(train)} train rows, {len(test)} test rows")
