"""Copy an image (or index, recursively) between repositories or registries, crane-style.

Order matters for safety: blobs first, then child manifests by digest, then the top-level
manifest under its tag last. If anything fails midway, the tag still points at the old (or
no) manifest, never at one whose content is missing. Every blob and manifest is
digest-verified (source stream hashed, registry checks the upload digest, manifest digests
compared after the push). The blobs of one manifest are copied in parallel, at most `jobs`
at a time (REGMAN_COPY_JOBS / `--jobs`); its manifest is pushed only after all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from regman.adapters.registry import RegistryClient
from regman.errors import IntegrityError
from regman.oci import Descriptor, Manifest
from regman.reference import Reference


@dataclass
class CopyResult:
    source: str
    destination: str
    digest: str = ""
    manifests_pushed: int = 0
    manifests_present: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0
    bytes_uploaded: int = 0
    dry_run: bool = False
    up_to_date: bool = False
    actions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return dict(vars(self))


Progress = Callable[[int], None]
DEFAULT_JOBS = 4


def copy_image(src: RegistryClient, src_ref: Reference, dst: RegistryClient,
               dst_ref: Reference, *, dry_run: bool = False,
               progress: Progress | None = None, jobs: int = DEFAULT_JOBS) -> CopyResult:
    """Copy `src_ref` to `dst_ref`; returns what moved. Skips everything the target has.

    Up to `jobs` blobs of a manifest move at once (1 = one at a time)."""
    # BEGIN SOLUTION: resolve the source digest; up_to_date if the target has it, else copy the tree
    result = CopyResult(source=str(src_ref), destination=str(dst_ref), dry_run=dry_run)
    top = src.get_manifest(src_ref.repository, src_ref.identifier)
    result.digest = top.digest
    if src_ref.digest and src_ref.digest != top.digest:
        raise IntegrityError(f"{src_ref} resolved to {top.digest}")
    target_identifier = dst_ref.tag or top.digest
    if dst.head_manifest(dst_ref.repository, target_identifier) == top.digest:
        result.up_to_date = True
        result.manifests_present += 1
        return result
    same_registry = src.base_url == dst.base_url
    _copy_tree(src, src_ref.repository, dst, dst_ref.repository, top, result,
               same_registry=same_registry, dry_run=dry_run, progress=progress,
               identifier=target_identifier, jobs=max(1, jobs))
    return result
    # END SOLUTION


def _copy_tree(src: RegistryClient, src_repo: str, dst: RegistryClient, dst_repo: str,
               manifest: Manifest, result: CopyResult, *, same_registry: bool,
               dry_run: bool, progress: Progress | None, identifier: str,
               jobs: int = 1) -> None:
    # BEGIN SOLUTION: children or blobs first, this manifest last; the stored digest must match
    if manifest.is_index:
        for child in manifest.children:
            if dst.head_manifest(dst_repo, child.digest) == child.digest:
                result.manifests_present += 1
                continue
            child_manifest = src.get_manifest(src_repo, child.digest)
            _copy_tree(src, src_repo, dst, dst_repo, child_manifest, result,
                       same_registry=same_registry, dry_run=dry_run, progress=progress,
                       identifier=child.digest, jobs=jobs)
    else:
        blobs = manifest.blobs()
        lock = threading.Lock()

        def one(blob: Descriptor) -> None:
            _copy_blob(src, src_repo, dst, dst_repo, blob, result, same_registry=same_registry,
                       dry_run=dry_run, progress=progress, lock=lock)

        if jobs == 1 or len(blobs) <= 1:
            for blob in blobs:
                one(blob)
        else:  # bounded pool; every blob must be in place before the manifest goes up
            with ThreadPoolExecutor(max_workers=min(jobs, len(blobs)),
                                    thread_name_prefix="regman-blob") as pool:
                futures = [pool.submit(one, blob) for blob in blobs]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
    if dry_run:
        result.actions.append(f"push manifest {dst_repo}:{identifier}")
        result.manifests_pushed += 1
        return
    stored = dst.put_manifest(dst_repo, identifier, manifest.raw, manifest.media_type)
    if stored != manifest.digest:
        raise IntegrityError(f"{dst_repo}:{identifier} stored as {stored}, source is "
                             f"{manifest.digest}")
    result.manifests_pushed += 1
    result.bytes_uploaded += len(manifest.raw)
    # END SOLUTION


def _copy_blob(src: RegistryClient, src_repo: str, dst: RegistryClient, dst_repo: str,
               blob: Descriptor, result: CopyResult, *, same_registry: bool, dry_run: bool,
               progress: Progress | None, lock: threading.Lock | None = None) -> None:
    guard = lock or threading.Lock()  # result and progress are shared by parallel copies
    # BEGIN SOLUTION: skip present blobs, mount within a registry, else upload (chunked if large)
    if dst.blob_exists(dst_repo, blob.digest):
        with guard:
            result.blobs_present += 1
            if progress:
                progress(blob.size)
        return
    if dry_run:
        with guard:
            result.actions.append(f"upload blob {blob.digest} ({blob.size} bytes)")
            result.blobs_uploaded += 1
        return
    if same_registry and src_repo != dst_repo and dst.mount_blob(dst_repo, blob.digest,
                                                                src_repo):
        with guard:
            result.blobs_mounted += 1
            if progress:
                progress(blob.size)
        return
    if blob.size <= dst.chunk_size:
        sent = dst.upload_blob_chunks(dst_repo, blob.digest,
                                      iter([src.get_blob(src_repo, blob.digest)]),
                                      monolithic=True)
    else:
        sent = dst.upload_blob_chunks(dst_repo, blob.digest,
                                      src.stream_blob(src_repo, blob.digest))
    if sent != blob.size:
        raise IntegrityError(f"blob {blob.digest}: sent {sent} bytes, descriptor says "
                             f"{blob.size}")
    with guard:
        result.blobs_uploaded += 1
        result.bytes_uploaded += sent
        if progress:
            progress(blob.size)
    # END SOLUTION
