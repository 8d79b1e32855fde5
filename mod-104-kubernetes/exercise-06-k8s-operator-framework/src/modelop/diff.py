"""Diff before write: does the live object already hold everything we want?

The API server adds defaults (imagePullPolicy, protocol, terminationMessagePath...) and other
controllers add their own fields (the HPA writes replicas, kubectl adds annotations), so
"equal" would always be false. The question is "is desired a subset of live": every field we
set has our value. Only when it is not do we write, so a resync of unchanged objects makes
no API writes at all (see the benchmark).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Maps this operator owns whole: a key we no longer want must go (a Service selector that
# still names the old slot would keep the canary out), so they compare by equality and the
# patch sends `null` for extra keys. Everything else is compared as a subset.
EXACT_PATHS: frozenset[tuple[str, ...]] = frozenset({("spec", "selector"), ("data",)})
# What the server owns or fills in: never compared, never sent back.
_IGNORED_METADATA = frozenset({"resourceVersion", "uid", "generation", "creationTimestamp",
                               "managedFields", "selfLink"})


def is_subset(desired: Any, live: Any, path: tuple[str, ...] = ()) -> bool:
    """True when every field of `desired` has the same value in `live`.

    Dicts: recursive (extra keys in live are fine, except under EXACT_PATHS). Lists: same
    length, item by item (a container or port more or less is a change).
    """
    # BEGIN SOLUTION: dict subset (exact under EXACT_PATHS), same-length lists
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return False
        if path in EXACT_PATHS and set(live) != set(desired):
            return False
        return all(key in live and is_subset(value, live[key], (*path, str(key)))
                   for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(is_subset(d, lv) for d, lv in zip(desired, live, strict=True))
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return float(desired) == float(live)
    return bool(desired == live)
    # END SOLUTION


def needs_write(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    """Whether `desired` must be written: absent, or some owned field differs."""
    if live is None:
        return True
    return not is_subset(strip_server_fields(desired), live)


def strip_server_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _IGNORED_METADATA}
    out["metadata"] = meta
    return out


def merge_patch(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch that makes `live` hold `desired`, pinned to the resourceVersion
    we compared against: if someone wrote in between, the server answers 409 and the
    reconcile retries against the new state instead of overwriting it blindly."""
    patch = copy.deepcopy(strip_server_fields(desired))
    patch.pop("apiVersion", None)
    patch.pop("kind", None)
    meta = dict(patch["metadata"])
    meta.pop("name", None)
    meta.pop("namespace", None)
    version = (live.get("metadata") or {}).get("resourceVersion")
    if version:
        meta["resourceVersion"] = version
    patch["metadata"] = meta
    for exact in EXACT_PATHS:
        want, have = _at(patch, exact), _at(live, exact)
        if isinstance(want, dict) and isinstance(have, Mapping):
            want.update({key: None for key in have if key not in want})
    return patch


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, Mapping) or key not in obj:
            return None
        obj = obj[key]
    return obj
