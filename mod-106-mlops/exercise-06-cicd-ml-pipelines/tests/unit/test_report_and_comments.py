"""The report's markdown and the one-comment-per-PR upsert against the GitHub stub."""

from __future__ import annotations

import pytest

from mlcicd.adapters.github import upsert_comment
from mlcicd.errors import ConfigInvalidError, UnavailableError
from mlcicd.report import MARKER, render

pytestmark = pytest.mark.points(2)

METRICS = {"metrics.json": {"accuracy": {"old": 0.95, "new": 0.97, "diff": 0.02}}}
PARAMS = {"params.yaml": {"train.C": {"old": 1.0, "new": 0.3}}}
DATA = {"modified": [{"path": "models/model.joblib"}], "added": [{"path": "data/new.csv"}]}


def test_report_has_marker_and_every_section():
    body = render("main", "a" * 40, "b" * 40, METRICS, PARAMS, DATA, ["plots/roc.csv"])
    assert body.startswith(MARKER)
    assert "| metrics.json | accuracy | 0.9500 | 0.9700 | +0.0200 |" in body
    assert "| params.yaml | train.C | 1.0000 | 0.3000 |" in body
    assert "| modified | `models/model.joblib` |" in body
    assert "| added | `data/new.csv` |" in body
    assert "`plots/roc.csv`" in body
    assert "`bbbbbbbb` vs `main` (`aaaaaaaa`)" in body


def test_report_without_changes_says_so():
    body = render("main", "a" * 40, "a" * 40, {}, {}, {}, [])
    assert "No metric changed." in body and "No param changed." in body
    assert "No DVC-tracked data or output changed." in body


@pytest.mark.points(3)
def test_upsert_creates_then_updates_the_same_comment(github_stub):
    other = github_stub.add(7, "LGTM")
    action, first = upsert_comment(github_stub.url, "t", "acme/model", 7, f"{MARKER}\nv1", MARKER)
    assert action == "created"
    action, second = upsert_comment(github_stub.url, "t", "acme/model", 7, f"{MARKER}\nv2",
                                    MARKER)
    assert (action, second) == ("updated", first)
    mine = [c for c in github_stub.comments.values() if MARKER in c["body"]]
    assert [c["body"] for c in mine] == [f"{MARKER}\nv2"]
    assert github_stub.comments[other]["body"] == "LGTM"
    assert [m for m, _ in github_stub.requests].count("POST") == 1


@pytest.mark.hidden
def test_marker_found_beyond_the_first_page(github_stub):
    for i in range(120):
        github_stub.add(3, f"comment {i}")
    existing = github_stub.add(3, f"{MARKER}\nold")
    action, comment_id = upsert_comment(github_stub.url, None, "acme/model", 3, f"{MARKER}\nnew",
                                        MARKER)
    assert (action, comment_id) == ("updated", existing)
    assert len(github_stub.comments) == 121


def test_unreachable_api_and_bad_repo():
    with pytest.raises(UnavailableError, match="unreachable"):
        upsert_comment("http://127.0.0.1:9", None, "acme/model", 1, "x", MARKER)
    with pytest.raises(ConfigInvalidError, match="owner/name"):
        upsert_comment("http://127.0.0.1:9", None, "model", 1, "x", MARKER)
