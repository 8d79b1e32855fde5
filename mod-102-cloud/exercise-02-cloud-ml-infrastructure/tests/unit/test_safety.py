from datetime import UTC, datetime, timedelta

import pytest

from cloudml.errors import ConflictError, UsageError
from cloudml.layout import Target
from cloudml.safety import (
    PlanRecord,
    check_destroy_allowed,
    check_fresh,
    config_digest,
    confirmation_phrase,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DEV, PROD = Target("aws", "dev"), Target("aws", "prod")


def record(**changes: object) -> PlanRecord:
    base = PlanRecord(cloud="aws", env="dev", created_at=(NOW - timedelta(minutes=5)).isoformat(),
                      config_digest="abc", state_serial=7, state_lineage="L", destroy=False,
                      destroys=0)
    return PlanRecord.from_dict({**base.as_dict(), **changes})


def fresh(rec: PlanRecord, target: Target = DEV, **kw: object) -> None:
    args: dict[str, object] = {"now": NOW, "max_age": timedelta(minutes=30),
                               "config_digest_now": "abc", "serial_now": 7, "lineage_now": "L"}
    args.update(kw)
    check_fresh(rec, target, **args)  # type: ignore[arg-type]


@pytest.mark.points(1)
def test_config_digest_sees_content_and_renames() -> None:
    files = {"main.tf": b"a", "terraform.tfvars": b"b"}
    assert config_digest(files) == config_digest(dict(reversed(files.items())))
    assert config_digest(files) != config_digest({**files, "main.tf": b"a2"})
    assert config_digest(files) != config_digest({"other.tf": b"a", "terraform.tfvars": b"b"})


@pytest.mark.points(1)
def test_record_round_trip() -> None:
    rec = record(flagged=["aws_s3_bucket.b"], variables={"enable_budget": "false"})
    assert PlanRecord.from_dict(rec.as_dict()) == rec


@pytest.mark.points(2)
def test_a_fresh_plan_passes() -> None:
    fresh(record())


@pytest.mark.points(2)
@pytest.mark.parametrize(("changes", "kw", "reason"), [
    ({"created_at": (NOW - timedelta(minutes=31)).isoformat()}, {}, "stale"),
    ({}, {"config_digest_now": "def"}, "configuration"),
    ({}, {"serial_now": 8}, "state"),
    ({}, {"lineage_now": "other"}, "state"),
    ({"env": "prod"}, {}, "aws/prod"),
])
def test_stale_plans_are_conflicts(changes: dict[str, object], kw: dict[str, object],
                                   reason: str) -> None:
    with pytest.raises(ConflictError, match=reason):
        fresh(record(**changes), **kw)


@pytest.mark.hidden
@pytest.mark.points(2)
def test_first_apply_has_no_state() -> None:
    fresh(record(state_serial=None, state_lineage=None), serial_now=None, lineage_now=None)
    with pytest.raises(ConflictError):
        fresh(record(state_serial=None, state_lineage=None), serial_now=1, lineage_now="L")


@pytest.mark.points(3)
def test_prod_deletes_need_flag_and_typed_phrase() -> None:
    phrase = confirmation_phrase(PROD)
    assert phrase == "destroy aws-prod"
    with pytest.raises(UsageError, match="--allow-destroy"):
        check_destroy_allowed(PROD, 3, allow_destroy=False, confirmation=phrase)
    with pytest.raises(UsageError, match="confirmation"):
        check_destroy_allowed(PROD, 3, allow_destroy=True, confirmation="yes")
    with pytest.raises(UsageError, match="confirmation"):
        check_destroy_allowed(PROD, 3, allow_destroy=True, confirmation=None)
    check_destroy_allowed(PROD, 3, allow_destroy=True, confirmation=phrase)


@pytest.mark.points(1)
def test_non_prod_and_delete_free_plans_are_not_gated() -> None:
    check_destroy_allowed(DEV, 40, allow_destroy=False, confirmation=None)
    check_destroy_allowed(Target("gcp", "staging"), 1, allow_destroy=False, confirmation=None)
    check_destroy_allowed(PROD, 0, allow_destroy=False, confirmation=None)
