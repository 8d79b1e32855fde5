"""hadolint (the real binary, JSON output) on what `fix` writes for images it cannot build
here: the Python/Node builder stages must clear the codes they target and add none."""

from __future__ import annotations

import pytest

from imgopt.adapters.hadolint import run_hadolint
from imgopt.context import ContextStats
from imgopt.fix import fix

pytestmark = pytest.mark.integration


def ctx(*files: str) -> ContextStats:
    sizes = {name: 10 for name in files}
    return ContextStats(".", (".git",), sizes, sizes)


@pytest.mark.points(2)
@pytest.mark.parametrize(("text", "files", "cleared"), [
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
     "RUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"main.py\"]\n",
     ("requirements.txt", "main.py"), "DL3042"),
    ("FROM node:22-slim\nWORKDIR /srv\nCOPY package.json package-lock.json ./\n"
     "RUN npm install\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
     ("package.json", "package-lock.json", "index.js"), None),  # hadolint finds nothing
], ids=["python", "node"])
def test_builder_stage_rewrites_are_hadolint_clean(text: str, files: tuple[str, ...],
                                                   cleared: str | None) -> None:
    before = {f.code for f in run_hadolint(text)}
    if cleared:
        assert cleared in before
    fixed = fix(text, ctx(*files)).fixed
    after = {f.code for f in run_hadolint(fixed)}
    assert "AS builder" in fixed
    assert after <= before - {cleared}, (before, after)  # cleared, and nothing new
