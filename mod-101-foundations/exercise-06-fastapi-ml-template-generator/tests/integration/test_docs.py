"""`mlscaffold docs` on a generated project: the schema comes from its own app and venv."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Generated

pytestmark = pytest.mark.integration


@pytest.mark.points(5)
def test_docs_from_the_running_code(generated: Callable[[str], Generated],
                                    tmp_path: Path) -> None:
    project = generated("sklearn")
    exe = Path(sys.executable).parent / "mlscaffold"
    result = subprocess.run([str(exe), "docs", str(project.path), "--out", str(tmp_path)],
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    api = (tmp_path / "api.md").read_text()
    assert "| `POST` | `/predict/batch` | Predict many rows in one call |" in api
    assert "### PredictRequest" in api and "| `features` | `list[float]` | yes |" in api
    arch = (tmp_path / "architecture.md").read_text()
    assert "```mermaid" in arch
    assert "| `APP_MODEL_PATH` |" in arch and "| `APP_MAX_BATCH_ITEMS` |" in arch
