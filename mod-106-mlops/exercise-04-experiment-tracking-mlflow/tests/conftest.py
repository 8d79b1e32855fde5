"""Shared test helpers."""

from __future__ import annotations

import os

# Never let a test wait for MLflow's default of 7 retries with backoff.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
os.environ.setdefault("MPLBACKEND", "Agg")
