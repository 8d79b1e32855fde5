"""The semver gate: which bump an interface change needs, and why.

Compares two parsed module interfaces (the last release and the working tree):

* major: a variable removed (or renamed: removed + added), a new variable without a default,
  a variable's type changed, an optional variable made required, an output removed, a resource
  or module address gone with no `moved` block taking it to an address that exists now;
* minor: a new optional variable, a new output, a new resource, a changed default;
* patch: anything else (descriptions, validations, expressions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from packaging.version import InvalidVersion, Version

from tfml.errors import ConfigurationError
from tfml.hcl import ModuleInterface


class Bump(IntEnum):
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @classmethod
    def parse(cls, text: str) -> Bump:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ConfigurationError(f"unknown bump {text!r}: use patch, minor or major") from None


@dataclass(frozen=True)
class Change:
    bump: Bump
    message: str


def _normalise_type(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "any")


def _resolve_moved(address: str, moved: dict[str, str]) -> str:
    seen: set[str] = set()
    while address in moved and address not in seen:
        seen.add(address)
        address = moved[address]
    return address


def diff(old: ModuleInterface, new: ModuleInterface) -> list[Change]:
    """Every interface change between `old` and `new`, each with the bump it needs."""
    # BEGIN SOLUTION
    changes: list[Change] = []
    for name in sorted(set(old.variables) - set(new.variables)):
        changes.append(Change(Bump.MAJOR, f"variable {name!r} removed or renamed"))
    for name in sorted(set(new.variables) - set(old.variables)):
        var = new.variables[name]
        if var.required:
            changes.append(Change(Bump.MAJOR, f"new required variable {name!r} (no default)"))
        else:
            changes.append(Change(Bump.MINOR, f"new optional variable {name!r}"))
    for name in sorted(set(old.variables) & set(new.variables)):
        before, after = old.variables[name], new.variables[name]
        if _normalise_type(before.type) != _normalise_type(after.type):
            changes.append(Change(Bump.MAJOR, f"variable {name!r} type changed from "
                                              f"{before.type or 'any'} to {after.type or 'any'}"))
        if not before.required and after.required:
            changes.append(Change(Bump.MAJOR, f"variable {name!r} lost its default "
                                              "(now required)"))
        elif not before.required and before.default != after.default:
            changes.append(Change(Bump.MINOR, f"variable {name!r} default changed"))
        elif before.required and not after.required:
            changes.append(Change(Bump.MINOR, f"variable {name!r} is now optional"))
    for name in sorted(set(old.outputs) - set(new.outputs)):
        changes.append(Change(Bump.MAJOR, f"output {name!r} removed"))
    for name in sorted(set(new.outputs) - set(old.outputs)):
        changes.append(Change(Bump.MINOR, f"new output {name!r}"))
    now = new.addresses
    for address in sorted(old.addresses - now):
        target = _resolve_moved(address, new.moved)
        if target == address:
            changes.append(Change(Bump.MAJOR, f"{address} removed or renamed without a "
                                              "`moved` block (its state would be destroyed)"))
        elif target not in now:
            changes.append(Change(Bump.MAJOR, f"{address} moved to {target}, which does not "
                                              "exist"))
        else:
            changes.append(Change(Bump.PATCH, f"{address} moved to {target}"))
    moved_targets = {_resolve_moved(a, new.moved) for a in old.addresses}
    for address in sorted(now - old.addresses - moved_targets):
        changes.append(Change(Bump.MINOR, f"new {address}"))
    return changes
    # END SOLUTION


def required_bump(changes: list[Change]) -> Bump:
    return max((c.bump for c in changes), default=Bump.PATCH)


def parse_version(text: str) -> Version:
    try:
        version = Version(text.lstrip("v"))
    except InvalidVersion:
        raise ConfigurationError(f"not a semantic version: {text!r}") from None
    if len(version.release) != 3 or version.pre or version.dev or version.local:
        raise ConfigurationError(f"not a plain X.Y.Z version: {text!r}")
    return version


def bump_version(version: Version, bump: Bump) -> Version:
    major, minor, patch = version.release
    if bump is Bump.MAJOR:
        return Version(f"{major + 1}.0.0")
    if bump is Bump.MINOR:
        return Version(f"{major}.{minor + 1}.0")
    return Version(f"{major}.{minor}.{patch + 1}")


def bump_between(old: Version, new: Version) -> Bump | None:
    """The bump that takes `old` to `new` (None when `new` is not exactly one bump above)."""
    for bump in (Bump.MAJOR, Bump.MINOR, Bump.PATCH):
        if bump_version(old, bump) == new:
            return bump
    return None
