"""The backup repository in a bucket: catalog, base backups and the WAL archive.

Layout (one bucket per region; the DR bucket is a copy made by the replicator):
    catalog.json                      the catalog, replaced whole, written last
    backups/<id>/base.tar.zst.age     the base backup (tar of the plain-format dir)
    wal/<segment>.zst.age             archived WAL segments, .history files alike
"""

from __future__ import annotations

from datetime import datetime

from drkit.adapters.s3 import ObjectStore
from drkit.catalog import CATALOG_KEY, Catalog
from drkit.errors import NotFoundError
from drkit.restore_plan import ArchivedSegment

WAL_PREFIX = "wal/"
BACKUP_PREFIX = "backups/"
SUFFIX = ".zst.age"


def wal_key(name: str) -> str:
    return f"{WAL_PREFIX}{name}{SUFFIX}"


def backup_key(backup_id: str) -> str:
    return f"{BACKUP_PREFIX}{backup_id}/base.tar{SUFFIX}"


class Repository:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def load_catalog(self) -> Catalog:
        try:
            return Catalog.from_json(self.store.get(CATALOG_KEY))
        except NotFoundError:
            return Catalog()

    def save_catalog(self, catalog: Catalog) -> None:
        self.store.put(CATALOG_KEY, catalog.to_json().encode())

    def archive(self) -> list[ArchivedSegment]:
        """Archived WAL files (segments and histories), by plain name."""
        result = []
        for info in self.store.objects(WAL_PREFIX):
            name = info.key.removeprefix(WAL_PREFIX).removesuffix(SUFFIX)
            result.append(ArchivedSegment(name, info.size, info.last_modified))
        return result

    def wal_names(self) -> list[str]:
        return sorted(seg.name for seg in self.archive())

    def last_archived_at(self) -> datetime | None:
        times = [seg.archived_at for seg in self.archive() if not seg.name.endswith(".history")]
        return max(times) if times else None
