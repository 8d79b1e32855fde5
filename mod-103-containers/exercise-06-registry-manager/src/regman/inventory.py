"""What a registry holds: repositories, manifests, tags, sizes, ages, signatures, references.

Built over the Distribution API. The API cannot list untagged manifests nor tell when
something was pushed, so when regman runs next to a CNCF distribution registry it can also
read the registry's storage tree (`storage_root`, read-only) for both, like the registry's
own garbage collector does:
  repositories/<repo>/_manifests/revisions/sha256/<hex>/link  -> every manifest (mtime = push)
  repositories/<repo>/_manifests/tags/<tag>/current/link      -> tag (mtime = last push)
Without it, ages come from the image config's `created` field.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from regman.adapters.registry import RegistryClient
from regman.errors import NotFoundInRegistryError
from regman.inspection import image_config
from regman.oci import Manifest
from regman.signing import SignatureVerifier, subject_of_signature_tag
from regman.state import StateStore


@dataclass
class ManifestRecord:
    repository: str
    digest: str
    media_type: str
    tags: list[str] = field(default_factory=list)
    created: datetime | None = None
    pushed: datetime | None = None
    manifest_size: int = 0
    blobs: dict[str, int] = field(default_factory=dict)  # digest -> size (config + layers)
    children: list[str] = field(default_factory=list)  # manifests of an index
    signature_of: str | None = None  # subject digest when this is a cosign .sig manifest
    signature_verified: bool = False  # the signing policy's keys verified this signature
    first_seen: datetime | None = None  # when regman first saw it (state / notifications)

    @property
    def timestamp(self) -> datetime | None:
        """The best 'when did this arrive' we know: push time, else build time."""
        return self.pushed or self.created

    @property
    def size(self) -> int:
        return self.manifest_size + sum(self.blobs.values())


@dataclass
class RepositoryInventory:
    repository: str
    manifests: dict[str, ManifestRecord] = field(default_factory=dict)

    def tagged(self) -> list[ManifestRecord]:
        return [m for m in self.manifests.values() if m.tags and m.signature_of is None]

    def signed_digests(self) -> set[str]:
        """Digests with a signature the signing policy's keys verified (not just a tag)."""
        return {m.signature_of for m in self.manifests.values()
                if m.signature_of and m.signature_verified}

    def unique_bytes(self) -> int:
        """Bytes the repository references, each blob counted once."""
        blobs: dict[str, int] = {}
        for record in self.manifests.values():
            blobs.update(record.blobs)
            blobs[record.digest] = record.manifest_size
        return sum(blobs.values())


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:  # Go writes nanoseconds; Python accepts at most microseconds
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year <= 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


class StorageView:
    """Read-only view of a distribution registry's filesystem storage."""

    def __init__(self, root: Path) -> None:
        self.repos = Path(root) / "docker" / "registry" / "v2" / "repositories"

    def revisions(self, repository: str) -> dict[str, datetime | None]:
        base = self.repos / repository / "_manifests" / "revisions" / "sha256"
        if not base.is_dir():
            return {}
        return {f"sha256:{d.name}": _mtime(d / "link") for d in base.iterdir()
                if (d / "link").is_file()}

    def tag_times(self, repository: str) -> dict[str, datetime | None]:
        base = self.repos / repository / "_manifests" / "tags"
        if not base.is_dir():
            return {}
        return {d.name: _mtime(d / "current" / "link") for d in base.iterdir()
                if (d / "current" / "link").is_file()}


def _record(client: RegistryClient, repository: str, manifest: Manifest) -> ManifestRecord:
    record = ManifestRecord(repository=repository, digest=manifest.digest,
                            media_type=manifest.media_type, manifest_size=len(manifest.raw))
    if manifest.is_index:
        record.children = [c.digest for c in manifest.children]
        return record
    record.blobs = {d.digest: d.size for d in manifest.blobs()}
    record.created = _parse_time(image_config(client, repository, manifest).get("created"))
    return record


def collect_repository(client: RegistryClient, repository: str,
                       storage: StorageView | None = None) -> RepositoryInventory:
    # BEGIN SOLUTION: records from tags, index children, storage revisions; push times
    inventory = RepositoryInventory(repository)
    tags = client.tags(repository)
    revisions = storage.revisions(repository) if storage else {}
    tag_times = storage.tag_times(repository) if storage else {}
    by_tag: dict[str, str] = {}
    for tag in sorted(tags):
        manifest = client.get_manifest(repository, tag)
        record = inventory.manifests.get(manifest.digest)
        if record is None:
            record = _record(client, repository, manifest)
            inventory.manifests[manifest.digest] = record
        record.tags.append(tag)
        by_tag[tag] = manifest.digest
        subject = subject_of_signature_tag(tag)
        if subject:
            record.signature_of = subject
    pending = [c for m in list(inventory.manifests.values()) for c in m.children]
    pending += [d for d in revisions if d not in inventory.manifests]
    while pending:  # children of indexes, then untagged revisions from storage
        digest = pending.pop()
        if digest in inventory.manifests:
            continue
        try:
            manifest = client.get_manifest(repository, digest)
        except NotFoundInRegistryError:
            continue
        record = _record(client, repository, manifest)
        inventory.manifests[digest] = record
        pending.extend(record.children)
    for digest, record in inventory.manifests.items():
        times = [revisions.get(digest)] + [tag_times.get(t) for t in record.tags]
        known = [t for t in times if t is not None]
        if known:
            record.pushed = max(known)
    for record in inventory.manifests.values():  # an index is as old as its newest child
        if record.children and record.created is None:
            stamps = [inventory.manifests[c].created for c in record.children
                      if c in inventory.manifests]
            known_created = [s for s in stamps if s is not None]
            record.created = max(known_created) if known_created else None
    return inventory
    # END SOLUTION


def collect_inventory(client: RegistryClient, patterns: Iterable[str] = ("*",),
                      storage_root: Path | None = None,
                      progress: Callable[[int], None] | None = None,
                      verifier: SignatureVerifier | None = None,
                      ) -> list[RepositoryInventory]:
    """Inventories of the matching repositories. Signature manifests count as signing their
    image only when `verifier` (the signing policy's keys) verifies them."""
    storage = StorageView(storage_root) if storage_root else None
    wanted = list(patterns)
    out = []
    for repository in sorted(client.catalog()):
        if matches_any(repository, wanted):
            try:
                inventory = collect_repository(client, repository, storage)
                for record in inventory.manifests.values():
                    if record.signature_of and verifier is not None:
                        record.signature_verified = verifier.is_signed(
                            client, repository, record.signature_of, record.digest)
                out.append(inventory)
            except NotFoundInRegistryError:
                continue  # deleted while we looked
        if progress:
            progress(1)
    return out


def mark_first_seen(store: StateStore, registry: str,
                    inventories: list[RepositoryInventory], now: datetime) -> None:
    """Record every manifest not seen before as first seen `now`; set `first_seen` on each
    record from regman's state (a push notification may have recorded it earlier)."""
    # BEGIN SOLUTION: record sightings, then read back the earliest per digest
    stamp = now.timestamp()
    seen = store.record_first_seen(registry, ((inv.repository, digest, stamp)
                                              for inv in inventories
                                              for digest in inv.manifests))
    for inv in inventories:
        known = seen.get(inv.repository, {})
        for digest, record in inv.manifests.items():
            if digest in known:
                record.first_seen = datetime.fromtimestamp(float(known[digest]), tz=UTC)
    # END SOLUTION
