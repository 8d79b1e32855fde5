"""The semver gate on fixture module pairs with known answers (no terraform needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from tests.conftest import FIXTURES
from tfml.errors import ConfigurationError
from tfml.hcl import load_module
from tfml.semver import Bump, bump_between, bump_version, diff, parse_version, required_bump

CASES = yaml.safe_load((FIXTURES / "semver" / "expected.yaml").read_text())
MOVED = {"moved-with-block", "moved-without-block"}


def _check(case: str) -> None:
    base = FIXTURES / "semver" / case
    changes = diff(load_module(base / "old", require_versions=False),
                   load_module(base / "new", require_versions=False))
    expected = CASES[case]
    assert required_bump(changes) is Bump.parse(expected["bump"]), [c.message for c in changes]
    messages = " | ".join(c.message for c in changes)
    if expected["reason"]:
        assert expected["reason"] in messages
    else:
        assert changes == []


@pytest.mark.points(2)
@pytest.mark.parametrize("case", sorted(set(CASES) - MOVED))
def test_interface_change_needs_the_known_bump(case: str) -> None:
    _check(case)


@pytest.mark.hidden
@pytest.mark.points(2)
@pytest.mark.parametrize("case", sorted(MOVED))
def test_moved_blocks_decide_whether_a_rename_is_breaking(case: str) -> None:
    _check(case)


@pytest.mark.points(1)
def test_bump_arithmetic() -> None:
    assert bump_version(Version("1.4.2"), Bump.MAJOR) == Version("2.0.0")
    assert bump_version(Version("1.4.2"), Bump.MINOR) == Version("1.5.0")
    assert bump_version(Version("1.4.2"), Bump.PATCH) == Version("1.4.3")
    assert bump_between(Version("1.4.2"), Version("1.5.0")) is Bump.MINOR
    assert bump_between(Version("1.4.2"), Version("1.6.0")) is None


@pytest.mark.points(1)
@pytest.mark.parametrize("text", ["1.2", "1.2.3rc1", "latest", "1.2.3.4"])
def test_only_plain_semver_is_accepted(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_version(text)


@pytest.mark.points(1)
def test_real_module_interface_is_read_whole() -> None:
    from tests.conftest import MODULES

    interface = load_module(MODULES / "aws" / "ml-serving")
    assert interface.variables["name"].required
    assert not interface.variables["instance_type"].required
    assert interface.variables["instance_type"].default == "ml.m5.large"
    assert interface.variables["subnet_ids"].type == "list(string)"
    assert interface.variables["name"].validations == 1
    assert {"endpoint_name", "endpoint_arn", "alarm_names"} <= set(interface.outputs)
    assert "aws_sagemaker_endpoint.this" in interface.addresses
    assert interface.required_providers["aws"]["version"] == ">= 5.60, < 6.0"


@pytest.mark.points(1)
def test_fixture_pairs_parse(tmp_path: Path) -> None:
    """Guard: every fixture case has an expectation (a typo would silently skip a case)."""
    cases = {p.name for p in (FIXTURES / "semver").iterdir() if p.is_dir()}
    assert cases == set(CASES)
