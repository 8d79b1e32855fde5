import pytest

from cloudml.drift import changed_attributes, drift_report

pytestmark = pytest.mark.points(2)


def test_changed_attributes_are_dotted_leaf_paths() -> None:
    before = {"tags": {"team": "ml", "env": "dev"}, "enable_key_rotation": True,
              "ingress": [], "egress": [{"from_port": 443, "cidr_blocks": ["0.0.0.0/0"]}]}
    after = {"tags": {"team": "ml", "env": "dev", "owner": "bob"},
             "enable_key_rotation": False, "ingress": None,
             "egress": [{"from_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]}
    assert changed_attributes(before, after) == ["egress.0.from_port",
                                                 "enable_key_rotation", "tags.owner"]


def test_lists_of_different_length_change_as_a_whole() -> None:
    assert changed_attributes({"ids": ["a"]}, {"ids": ["a", "b"]}) == ["ids"]


@pytest.mark.hidden
def test_null_and_empty_values_are_equal() -> None:
    assert changed_attributes({"a": None, "b": {}, "c": ""}, {"a": [], "b": None}) == []
    assert changed_attributes({"a": None}, {"a": ["x"]}) == ["a"]


def test_report_from_refresh_only_plan() -> None:
    plan = {"resource_drift": [
        {"address": "aws_kms_key.k", "mode": "managed",
         "change": {"actions": ["update"], "before": {"enable_key_rotation": True},
                    "after": {"enable_key_rotation": False}}},
        {"address": "aws_sns_topic.t", "mode": "managed",
         "change": {"actions": ["delete"], "before": {"name": "t"}, "after": None}},
    ]}
    report = drift_report(plan)
    assert report.has_drift
    assert report.as_dict()["resources"] == [
        {"address": "aws_kms_key.k", "action": "update", "attributes": ["enable_key_rotation"]},
        {"address": "aws_sns_topic.t", "action": "delete", "attributes": []},
    ]
    assert not drift_report({"resource_changes": []}).has_drift
