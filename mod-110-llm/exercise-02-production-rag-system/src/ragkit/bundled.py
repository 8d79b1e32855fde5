"""Paths of the bundled corpus (infrastructure runbooks) and its evaluation set."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
QA = DATA / "qa.jsonl"
