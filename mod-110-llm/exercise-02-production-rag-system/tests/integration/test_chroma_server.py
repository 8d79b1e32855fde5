"""Chroma client/server mode against a real `chroma run` on loopback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from ragkit import bundled
from ragkit.rag import RagSystem

pytestmark = pytest.mark.integration


@pytest.mark.points(4)
def test_ingest_and_query_through_chroma_server(service_process, free_port: int, make_settings,
                                                embedder, tmp_path: Path) -> None:
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    service_process("chroma", [chroma, "run", "--path", str(tmp_path / "server"), "--host",
                               "127.0.0.1", "--port", str(free_port)],
                    ready_http=f"http://127.0.0.1:{free_port}/api/v2/heartbeat", timeout=60)
    settings = make_settings()
    settings.chroma.mode = "http"
    settings.chroma.port = free_port
    system = RagSystem(settings, embedder=embedder)
    report = system.ingest(bundled.CORPUS / "runbooks")
    assert len(report.added) == 19
    hits = system.retrieve("etcd NOSPACE alarm", k=2).hits
    assert hits[0].metadata["source"] == "etcd-defrag.md"
    assert (tmp_path / "server").is_dir()
    assert not (settings.data_dir / "chroma").exists()  # nothing embedded locally
    assert system.ingest(bundled.CORPUS / "runbooks").chunks_embedded == 0
