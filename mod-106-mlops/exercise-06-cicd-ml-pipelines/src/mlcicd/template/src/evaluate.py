"""evaluate: metrics, per-row predictions (for the gate's paired bootstrap), ROC plot and the
golden set the deployment smoke test replays."""

import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score, roc_curve

bundle = joblib.load("models/model.joblib")
model, features = bundle["model"], bundle["features"]
test = pd.read_csv("data/prepared/test.csv")
prob = model.predict_proba(test[features])[:, 1]
pred = (prob >= 0.5).astype(int)
metrics = {
    "accuracy": round(float(accuracy_score(test["target"], pred)), 6),
    "f1": round(float(f1_score(test["target"], pred)), 6),
    "roc_auc": round(float(roc_auc_score(test["target"], prob)), 6),
    "n_test": int(len(test)),
}
Path("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
Path("reports").mkdir(exist_ok=True)
pd.DataFrame({"id": test["id"], "y_true": test["target"], "y_prob": prob.round(6),
              "y_pred": pred}).to_csv("reports/predictions.csv", index=False)
fpr, tpr, _ = roc_curve(test["target"], prob)
Path("plots").mkdir(exist_ok=True)
pd.DataFrame({"fpr": fpr.round(6), "tpr": tpr.round(6)}).to_csv("plots/roc.csv", index=False)
golden = test.head(20)
Path("models/golden.json").write_text(json.dumps({
    "features": features,
    "rows": golden[features].round(6).to_dict(orient="records"),
    "labels": golden["target"].astype(int).tolist(),
    "min_accuracy": 0.85,
}, indent=1) + "\n")
print("evaluate:", json.dumps(metrics))
