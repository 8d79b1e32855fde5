"""Batch inference with the production model: predictions plus the metadata to trace them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from aiinfra_shared.io import atomic_write_json, atomic_write_text

from mlworkflows.data import TARGET
from mlworkflows.registry import Registry
from mlworkflows.training import engineer
from mlworkflows.validation import read_csv
from mlworkflows.workspace import safe_name


def score_batch(registry: Registry, model: str, batch_path: Path, out_dir: Path,
                run_id: str) -> dict[str, Any]:
    estimator, pointer = registry.load_production_model(model)
    frame = read_csv(batch_path)
    features = engineer(frame.drop(columns=[TARGET], errors="ignore"))
    scores = estimator.predict_proba(features)[:, 1]
    out = pd.DataFrame({"row": range(len(frame)), "score": scores.round(6),
                        "prediction": (scores >= 0.5).astype(int)})
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_name(run_id)
    predictions_path = out_dir / f"{stem}.csv"
    atomic_write_text(predictions_path, out.to_csv(index=False))
    metadata = {"model": model, "model_version": pointer["version"], "run_id": run_id,
                "batch": str(batch_path), "rows": len(out),
                "positive_rate": round(float(out["prediction"].mean()), 6),
                "predictions": str(predictions_path),
                "scored_at": datetime.now(UTC).isoformat()}
    atomic_write_json(out_dir / f"{stem}.json", metadata)
    return metadata
