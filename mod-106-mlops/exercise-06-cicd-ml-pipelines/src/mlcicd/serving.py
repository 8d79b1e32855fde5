"""The model server the deployment starts: FastAPI over the artifact folder in MLCICD_MODEL_DIR.

`/health` says which artifact is serving (version, git sha, digest), `/predict` takes rows of
named features. The artifact is loaded once, at startup (lifespan); a server that cannot load
its model never reports healthy.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel


class PredictRequest(BaseModel):
    rows: list[dict[str, float]]


class PredictResponse(BaseModel):
    probabilities: list[float]
    labels: list[int]


def create_app(model_dir: Path | None = None) -> FastAPI:
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        folder = model_dir or Path(os.environ.get("MLCICD_MODEL_DIR", "model"))
        bundle = joblib.load(folder / "model.joblib")
        state.update(model=bundle["model"], features=list(bundle["features"]))
        info_path = folder / "artifact.json"
        state["info"] = json.loads(info_path.read_text()) if info_path.exists() else {}
        yield

    app = FastAPI(title="mlcicd model server", lifespan=lifespan)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", **state["info"]}

    @app.post("/predict")
    def predict(request: PredictRequest) -> PredictResponse:
        features: list[str] = state["features"]
        missing = sorted({f for row in request.rows for f in features if f not in row})
        if missing:
            raise HTTPException(422, f"missing features: {', '.join(missing[:5])}")
        frame = pd.DataFrame(request.rows)[features]
        prob = state["model"].predict_proba(frame)[:, 1]
        return PredictResponse(probabilities=[float(p) for p in prob],
                               labels=[int(p >= 0.5) for p in prob])

    return app


app = create_app()
