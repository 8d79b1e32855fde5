from __future__ import annotations

from pathlib import Path

import pytest
from aiinfra_shared.config import ConfigError

from ragkit.config import Settings

# Settings are pydantic models given to the learner: 1 point each.
pytestmark = pytest.mark.points(1)


def test_defaults_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().retrieval.rrf_k == 60 and Settings().retrieval.mode == "hybrid"
    cfg = tmp_path / "ragkit.yaml"
    cfg.write_text("collection: team-docs\nretrieval:\n  k: 7\n  mode: bm25\n")
    s = Settings.load(cfg)
    assert s.collection == "team-docs" and s.retrieval.k == 7
    monkeypatch.setenv("RAGKIT_RETRIEVAL__K", "9")
    monkeypatch.setenv("RAGKIT_LLM__BACKEND", "openai")
    s = Settings.load(cfg)
    assert s.retrieval.k == 9 and s.llm.backend == "openai" and s.retrieval.mode == "bm25"


def test_invalid_values_name_the_field(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("retrieval:\n  mode: magic\n")
    with pytest.raises(ConfigError, match=r"retrieval\.mode"):
        Settings.load(cfg)
