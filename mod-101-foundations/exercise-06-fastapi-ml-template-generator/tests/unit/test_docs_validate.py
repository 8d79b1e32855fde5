"""Docs rendering from an OpenAPI schema and the static standards checks (no processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscaffold.answers import AnswersRecord
from mlscaffold.docs import architecture_markdown, openapi_markdown
from mlscaffold.validate import check_ci_installs_uv, check_dockerfile, check_manifests

SCHEMA = {
    "openapi": "3.1.0",
    "info": {"title": "iris-api", "version": "0.1.0"},
    "paths": {
        "/predict": {"post": {
            "summary": "Predict one row",
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/PredictRequest"}}}},
            "responses": {"200": {"description": "Successful Response", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Prediction"}}}},
                "422": {"description": "Validation Error"}}}},
        "/health": {"get": {"summary": "Liveness", "responses": {"200": {"description": "OK"}}}},
    },
    "components": {"schemas": {
        "PredictRequest": {"type": "object", "required": ["features"], "properties": {
            "features": {"type": "array", "items": {"type": "number"}, "minItems": 1,
                         "description": "One row"}}},
        "Prediction": {"type": "object", "properties": {
            "label": {"type": "string"},
            "probabilities": {"type": "object",
                              "additionalProperties": {"type": "number"}}}},
    }},
}


@pytest.mark.points(5)
def test_openapi_markdown_lists_operations_and_schemas() -> None:
    text = openapi_markdown(SCHEMA)
    assert text.startswith("# iris-api 0.1.0 - API reference")
    assert "| `POST` | `/predict` | Predict one row |" in text
    assert "Request body (JSON): `PredictRequest`" in text
    assert "| 200 | Successful Response | `Prediction` |" in text
    assert "| `features` | `list[float]` | yes | One row; min items 1 |" in text
    assert "| `probabilities` | `dict[str, float]` | no |" in text


@pytest.mark.hidden
@pytest.mark.points(3)
def test_architecture_page_has_diagram_and_env_table() -> None:
    record = AnswersRecord(template="sklearn", template_version="1.0.0",
                           mlscaffold_version="0.1.0",
                           answers={"project_name": "iris-api", "min_replicas": 2,
                                    "max_replicas": 5})
    settings = {"properties": {"model_path": {"type": "string", "default": "models/m.joblib",
                                              "description": "bundle"}}}
    text = architecture_markdown(record, SCHEMA, settings)
    assert "```mermaid" in text and "scikit-learn estimator" in text
    assert "| `APP_MODEL_PATH` | `str` | `models/m.joblib` | bundle |" in text
    assert "- `POST /predict`" in text
    assert "HPA 2-5 replicas" in text


GOOD_DOCKERFILE = """FROM python:3.11.11-slim AS build
RUN echo build
FROM python:3.11.11-slim
USER 10001
HEALTHCHECK --interval=5s \\
  CMD ["python", "-c", "print(1)"]
"""


@pytest.mark.points(4)
def test_dockerfile_checks_pass_and_fail() -> None:
    assert all(c.ok for c in check_dockerfile(GOOD_DOCKERFILE))
    root = {c.name: c for c in check_dockerfile("FROM python:latest\nRUN x\n")}
    assert not root["dockerfile multi-stage"].ok
    assert not root["dockerfile pinned base"].ok
    assert not root["dockerfile non-root user"].ok
    assert not root["dockerfile healthcheck"].ok
    as_root = {c.name: c for c in check_dockerfile(GOOD_DOCKERFILE.replace("10001", "root"))}
    assert not as_root["dockerfile non-root user"].ok


@pytest.mark.points(4)
def test_manifest_checks_find_missing_probes(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers:
        - name: x
          image: x:1
          livenessProbe: {httpGet: {path: /health, port: 80}}
""")
    checks = {c.name: c for c in check_manifests(tmp_path)}
    assert not checks["k8s objects"].ok
    assert "readiness=None" in checks["k8s probes"].detail
    assert not checks["k8s resources"].ok
    assert not checks["k8s runAsNonRoot"].ok


@pytest.mark.points(2)
def test_ci_must_set_up_uv_before_using_it() -> None:
    good = """jobs:
  test:
    steps:
      - uses: actions/checkout@v5
      - uses: astral-sh/setup-uv@v6
      - run: uv sync --locked
  image:
    steps:
      - run: docker build .
"""
    assert check_ci_installs_uv(good).ok
    bad = good.replace("      - run: docker build .", "      - run: |\n          uv lock\n"
                       "          docker build .")
    check = check_ci_installs_uv(bad)
    assert not check.ok and "image" in check.detail
