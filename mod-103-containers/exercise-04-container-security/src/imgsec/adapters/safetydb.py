"""Convert the `safety-db` wheel's advisories (PyUp, July 2021) into OSV records.

The only vulnerability feed installable here: ~2,800 PyPI advisories whose `specs` are PEP 440
specifier sets (`>=1.0,<1.2`, `<2.0`, `==1.3`). Each specifier set becomes one ECOSYSTEM range
(or explicit versions); specifiers OSV cannot express (`>`, `!=`, `~=`) are skipped and counted.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imgsec.errors import NotFoundError


def safety_db_path() -> Path:
    spec = importlib.util.find_spec("safety_db")
    if spec is None or not spec.submodule_search_locations:
        raise NotFoundError("safety-db is not installed (uv sync installs it with the dev group)")
    return Path(next(iter(spec.submodule_search_locations))) / "insecure_full.json"


def spec_to_affected(name: str, spec: str) -> dict[str, Any] | None:
    """One `specs` entry -> an OSV affected[] entry, or None if OSV cannot say it."""
    events: list[dict[str, str]] = []
    versions: list[str] = []
    introduced = "0"
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part.startswith("=="):
            versions.append(part[2:])
        elif part.startswith(">="):
            introduced = part[2:]
        elif part.startswith("<="):
            events.append({"last_affected": part[2:]})
        elif part.startswith("<"):
            events.append({"fixed": part[1:]})
        else:
            return None
    package = {"ecosystem": "PyPI", "name": name}
    if versions:
        return {"package": package, "versions": versions}
    if not events:
        return None
    return {"package": package,
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, *events]}]}


def convert(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """(OSV records, number of specifiers skipped)."""
    timestamp = (payload.get("$meta") or {}).get("timestamp", 0)
    modified = datetime.fromtimestamp(int(timestamp), UTC).isoformat().replace("+00:00", "Z")
    records: dict[str, dict[str, Any]] = {}
    skipped = 0
    for name, advisories in payload.items():
        if name.startswith("$"):
            continue
        for advisory in advisories:
            affected = [a for s in advisory.get("specs") or []
                        if (a := spec_to_affected(name, s)) is not None]
            skipped += len(advisory.get("specs") or []) - len(affected)
            if not affected:
                continue
            aliases = [c.strip() for c in str(advisory.get("cve") or "").split(",")
                       if c.strip()]
            record_id = str(advisory["id"])
            if record_id in records:
                records[record_id]["affected"] += affected
                continue
            records[record_id] = {"schema_version": "1.6.0", "id": record_id,
                                  "modified": modified, "aliases": aliases,
                                  "summary": str(advisory.get("advisory", ""))[:300],
                                  "affected": affected}
    return list(records.values()), skipped


def load_safety_db(path: Path | None = None) -> tuple[list[dict[str, Any]], int]:
    source = path or safety_db_path()
    return convert(json.loads(source.read_text()))
