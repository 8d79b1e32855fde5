"""The CLI through click's runner and as the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ragkit.cli import cli

pytestmark = pytest.mark.integration
EXE = str(Path(sys.executable).parent / "ragkit")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_console_script_collections_and_missing_collection(indexed) -> None:
    data_dir = str(indexed.settings.data_dir)
    out = subprocess.run([EXE, "collections", "--data-dir", data_dir, "--json"],
                         capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["name"] == "runbooks"
    out = subprocess.run([EXE, "ask", "anything", "-c", "nope-collection", "--data-dir",
                          data_dir], capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 4
    assert out.stderr.strip() == ("error: collection 'nope-collection' does not exist "
                                  "(run `ragkit ingest DIR` first)")
    assert "Traceback" not in out.stderr


@pytest.mark.points(4)
def test_search_ask_eval_through_click(indexed, monkeypatch: pytest.MonkeyPatch) -> None:
    import ragkit.cli as cli_module

    monkeypatch.setattr(cli_module, "_system", lambda settings: indexed)
    runner = CliRunner()
    r = runner.invoke(cli, ["search", "PgConnectionsSaturated", "--mode", "bm25", "--json"])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)["hits"]
    assert hits[0]["source"] == "runbooks/postgres-connection-exhaustion.md"

    r = runner.invoke(cli, ["ask", "How long does just-in-time production access last?",
                            "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["sources"][0]["source"] == "policies/access-requests.txt"

    r = runner.invoke(cli, ["ask", "x" * 2500])
    assert r.exit_code == 2 and "query too long" in r.output

    r = runner.invoke(cli, ["eval", "--modes", "vector,hybrid"])
    assert r.exit_code == 0, r.output
    assert "ndcg@10" in r.output and "hybrid" in r.output and "90 questions" in r.output
    assert "recall@10" in r.output

    r = runner.invoke(cli, ["eval", "--modes", "vector", "--json"])
    result = json.loads(r.stdout)["results"][0]
    assert result["retrieval"]["ndcg@10"] > 0.8 and result["retrieval"]["mrr"] > 0.8

    r = runner.invoke(cli, ["eval", "--modes", "magic"])
    assert r.exit_code == 2 and "unknown mode" in r.output


@pytest.mark.points(5)
def test_eval_with_answers_and_tune(indexed, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    import ragkit.cli as cli_module
    from ragkit.rag import RagSystem

    monkeypatch.setattr(cli_module, "_system", lambda settings: indexed)
    small = tmp_path / "qa.jsonl"
    small.write_text(
        '{"id": "a", "question": "Which port should services use for PgBouncer?", '
        '"sources": ["runbooks/postgres-connection-exhaustion.md"], "answerable": true}\n'
        '{"id": "b", "question": "Who won the 2022 football world cup?", "sources": [], '
        '"answerable": false}\n')
    r = CliRunner().invoke(cli, ["eval", "--dataset", str(small), "--modes", "hybrid",
                                 "--answers", "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)["results"][0]
    answers, rows = result["answers"], result["per_question"]
    assert answers["abstention_accuracy"] == 1.0  # answered a, abstained on b
    assert rows[1]["abstained"] and rows[1]["cited_sources"] == []
    cited = rows[0]["cited_sources"]  # what the tiny model cited, resolved to documents
    expected = (sum(c == "runbooks/postgres-connection-exhaustion.md" for c in cited)
                / len(cited)) if cited else 0.0
    assert answers["citation_correctness"] == pytest.approx(expected)
    assert answers["answered"] == 1.0

    real_init = RagSystem.__init__

    def shared_embedder(self, settings, embedder=None, metrics=None):  # type: ignore[no-untyped-def]
        real_init(self, settings, embedder=indexed.embedder, metrics=metrics)

    monkeypatch.setattr(RagSystem, "__init__", shared_embedder)
    corpus = tmp_path / "corpus"
    import shutil

    from ragkit import bundled

    shutil.copytree(bundled.CORPUS / "runbooks", corpus)
    qa = tmp_path / "qa-runbooks.jsonl"
    qa.write_text("\n".join(line for line in bundled.QA.read_text().splitlines()
                            if '"runbooks/' in line))
    r = CliRunner().invoke(cli, ["tune", "--dataset", str(qa), "--corpus", str(corpus),
                                 "--chunk-sizes", "200,600", "--overlaps", "0", "--ks", "2,4",
                                 "--weights", "1:1,0:1", "--fusions", "rrf",
                                 "--data-dir", str(tmp_path / "d"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert len(out["trials"]) == 8
    scores = [t["ndcg@10"] for t in out["trials"]]
    assert scores == sorted(scores, reverse=True) and out["best"] == out["trials"][0]
