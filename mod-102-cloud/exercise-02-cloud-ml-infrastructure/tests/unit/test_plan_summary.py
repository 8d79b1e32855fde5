from typing import Any

import pytest

from cloudml.plan_summary import classify, render, summarize_plan

pytestmark = pytest.mark.points(2)


def change(address: str, kind: str, actions: list[str], mode: str = "managed") -> dict[str, Any]:
    return {"address": address, "type": kind, "mode": mode, "change": {"actions": actions}}


PLAN = {
    "resource_changes": [
        change("aws_s3_bucket.data", "aws_s3_bucket", ["delete", "create"]),
        change("aws_kms_key.k", "aws_kms_key", ["delete"]),
        change("aws_ecr_repository.r", "aws_ecr_repository", ["update"]),
        change("aws_vpc.v", "aws_vpc", ["create"]),
        change("aws_subnet.s", "aws_subnet", ["create", "delete"]),
        change("aws_iam_role.r", "aws_iam_role", ["no-op"]),
        change("data.aws_iam_policy_document.p", "aws_iam_policy_document", ["read"],
               mode="data"),
    ],
    "output_changes": {"bucket": {"actions": ["update"]}, "same": {"actions": ["no-op"]}},
}


@pytest.mark.points(0.5)
@pytest.mark.parametrize(("actions", "word"), [
    (["create"], "create"), (["update"], "update"), (["delete"], "delete"),
    (["delete", "create"], "replace"), (["create", "delete"], "replace"),
    (["no-op"], "no-op"), (["read"], "no-op"),
])
def test_classify(actions: list[str], word: str) -> None:
    assert classify(actions) == word


def test_counts_and_flags_critical_deletes() -> None:
    summary = summarize_plan(PLAN)
    assert summary.counts == {"create": 1, "update": 1, "delete": 1, "replace": 2, "no-op": 1}
    assert [c.address for c in summary.flagged] == ["aws_s3_bucket.data", "aws_kms_key.k"]
    assert summary.destroys == 3
    assert summary.output_changes == {"bucket": "update"}


def test_updates_of_critical_types_are_not_flagged() -> None:
    summary = summarize_plan({"resource_changes": [
        change("aws_s3_bucket.b", "aws_s3_bucket", ["update"])]})
    assert summary.flagged == []
    assert summary.destroys == 0
    assert summary.has_changes


@pytest.mark.points(1)
def test_render_puts_flags_first_and_folds_long_creates() -> None:
    lines = list(render(summarize_plan(PLAN), "aws/prod"))
    assert lines[0] == "aws/prod: 1 to create, 1 to update, 2 to replace, 1 to delete"
    assert lines[1].startswith("  !! REPLACE") and "aws_s3_bucket.data" in lines[1]
    many = {"resource_changes": [change(f"aws_subnet.s{i}", "aws_subnet", ["create"])
                                 for i in range(30)]}
    folded = list(render(summarize_plan(many), "aws/dev"))
    assert folded[-1].strip() == "+ 30 new resources (--json lists them)"
    assert len(folded) == 2


@pytest.mark.hidden
def test_empty_plan() -> None:
    summary = summarize_plan({"resource_changes": [], "errored": False})
    assert not summary.has_changes
    assert list(render(summary, "aws/dev"))[-1].strip().startswith("no changes")
