import json
from datetime import UTC, datetime, timedelta

import pytest

from cloudml.errors import ConflictError, InputError, MissingError
from cloudml.state import StateVersion, check_release, parse_lock, rollback_version

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def version(vid: str, minutes_ago: int, latest: bool = False) -> StateVersion:
    return StateVersion(vid, NOW - timedelta(minutes=minutes_ago), 100, latest)


VERSIONS = [version("v1", 30), version("v3", 1, latest=True), version("v2", 10)]


@pytest.mark.points(2)
def test_default_rollback_is_the_newest_older_version() -> None:
    assert rollback_version(VERSIONS).version_id == "v2"


@pytest.mark.points(2)
def test_explicit_version() -> None:
    assert rollback_version(VERSIONS, "v1").version_id == "v1"
    with pytest.raises(MissingError, match="does not exist"):
        rollback_version(VERSIONS, "nope")
    with pytest.raises(ConflictError, match="already the current"):
        rollback_version(VERSIONS, "v3")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_nothing_to_roll_back_to() -> None:
    with pytest.raises(MissingError):
        rollback_version([])
    with pytest.raises(MissingError, match="single version"):
        rollback_version([version("only", 1, latest=True)])


def lock_body(minutes_ago: float) -> bytes:
    created = (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    return json.dumps({"ID": "abc-123", "Operation": "OperationTypeApply", "Info": "",
                       "Who": "ci@runner", "Version": "1.11.4", "Created": created,
                       "Path": "bucket/aws/dev/terraform.tfstate"}).encode()


@pytest.mark.points(1)
def test_parse_terraform_lock_file() -> None:
    info = parse_lock(lock_body(20))
    assert (info.id, info.who, info.operation) == ("abc-123", "ci@runner", "OperationTypeApply")
    assert info.age(NOW) == timedelta(minutes=20)
    with pytest.raises(InputError):
        parse_lock(b"not json")


@pytest.mark.points(2)
def test_only_stale_locks_are_released_without_force() -> None:
    stale_after = timedelta(minutes=15)
    check_release(parse_lock(lock_body(20)), now=NOW, stale_after=stale_after, force=False)
    with pytest.raises(ConflictError, match="running apply"):
        check_release(parse_lock(lock_body(2)), now=NOW, stale_after=stale_after, force=False)
    check_release(parse_lock(lock_body(2)), now=NOW, stale_after=stale_after, force=True)


@pytest.mark.hidden
@pytest.mark.points(1)
def test_lock_id_must_match() -> None:
    with pytest.raises(ConflictError, match="someone else"):
        check_release(parse_lock(lock_body(60)), now=NOW, stale_after=timedelta(minutes=1),
                      force=True, lock_id="other")
