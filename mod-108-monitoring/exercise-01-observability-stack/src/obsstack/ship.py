"""`obsstack ship`: a log shipper in the role of Fluent Bit's tail input + es output.

- tails files with checkpointed offsets (inode + byte offset, written atomically after each
  acknowledged batch), so a restart resumes where the last acknowledged batch ended;
- follows rotation by rename: when the path's inode changes, the rest of the old file is
  read from its sibling (`app.log.1`...) before the new file; truncation restarts at 0;
- sends `_bulk` batches whose document ids come from (device, inode, offset): a replay
  after a crash overwrites the same documents, it never duplicates them;
- retries failed requests and items (429 / 5xx) with backoff; when Elasticsearch stays down
  the batch is parked in a bounded disk buffer and reading goes on; once the buffer is full
  the shipper stops reading (backpressure) until it drains. Nothing is dropped;
- malformed lines (not a JSON object) go raw to a dead-letter index with the reason;
- daily indices `<prefix>-YYYY.MM.DD` from each line's `@timestamp`, created from an index
  template that maps the correlation fields as keywords.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiinfra_shared.io import atomic_write_bytes, atomic_write_json

from obsstack.config import ShipperSettings

log = logging.getLogger(__name__)

DEAD_LETTER_SUFFIX = "deadletter"
RETRYABLE = {429, 500, 502, 503, 504}


class SinkUnavailableError(Exception):
    """Elasticsearch cannot be reached or answers 5xx / 429 for the whole request."""


def index_template(prefix: str) -> dict[str, Any]:
    """The index template of the daily log indices (and the dead-letter index)."""
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": 100,
        "template": {
            "settings": {"number_of_shards": 1},
            "mappings": {
                "properties": {
                    "@timestamp": {"type": "date"},
                    "level": {"type": "keyword"},
                    "service": {"type": "keyword"},
                    "trace_id": {"type": "keyword"},
                    "span_id": {"type": "keyword"},
                    "tenant": {"type": "keyword"},
                    "route": {"type": "keyword"},
                    "code": {"type": "integer"},
                    "duration_ms": {"type": "float"},
                    "message": {"type": "text"},
                    "raw": {"type": "text"},
                    "log": {"properties": {"file": {"type": "keyword"},
                                           "offset": {"type": "long"}}},
                },
            },
        },
    }


class ElasticsearchSink:
    """`_bulk` over HTTP; raises SinkUnavailableError when the server cannot take the request."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(timeout=timeout)

    def put_template(self, name: str, body: dict[str, Any]) -> None:
        try:
            response = self.client.put(f"{self.url}/_index_template/{name}", json=body)
        except httpx.HTTPError as exc:
            raise SinkUnavailableError(f"Elasticsearch at {self.url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise SinkUnavailableError(f"index template rejected: HTTP {response.status_code}")

    def bulk(self, body: bytes) -> list[dict[str, Any]]:
        """Send an NDJSON bulk body; return the per-item results."""
        try:
            response = self.client.post(f"{self.url}/_bulk", content=body,
                                        headers={"content-type": "application/x-ndjson"})
        except httpx.HTTPError as exc:
            raise SinkUnavailableError(f"Elasticsearch at {self.url} unreachable: {exc}") from exc
        if response.status_code in RETRYABLE:
            raise SinkUnavailableError(f"Elasticsearch answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise SinkUnavailableError(f"bulk request rejected: HTTP {response.status_code} "
                                  f"{response.text[:200]}")
        return [next(iter(item.values())) for item in response.json().get("items", [])]

    def close(self) -> None:
        self.client.close()


@dataclass
class FileState:
    """Where reading of one path stands: the file's identity and the next byte to read."""

    dev: int
    inode: int
    offset: int


@dataclass
class Record:
    """One complete line read from a file."""

    path: str
    dev: int
    inode: int
    offset: int  # byte offset of the line's start
    end: int  # offset after its newline
    line: bytes


@dataclass
class ShipStats:
    lines: int = 0
    indexed: int = 0
    dead_letter: int = 0
    batches: int = 0
    retries: int = 0
    buffered_batches: int = 0
    backpressure_waits: int = 0
    rotations: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {
            "errors": self.errors[-5:]}


def document_id(dev: int, inode: int, offset: int) -> str:
    """Stable id of the line at `offset` of file (dev, inode): replays overwrite."""
    return hashlib.sha1(f"{dev}:{inode}:{offset}".encode(), usedforsecurity=False
                        ).hexdigest()[:24]


def daily_index(prefix: str, timestamp: Any, now: datetime | None = None) -> str:
    """`<prefix>-YYYY.MM.DD` of an ISO-8601 `@timestamp` (UTC); today for a bad one."""
    day = None
    if isinstance(timestamp, str):
        try:
            parsed = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
            day = (parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC))
        except ValueError:
            day = None
    day = day or now or datetime.now(UTC)
    return f"{prefix}-{day:%Y.%m.%d}"


def bulk_body(records: Sequence[Record], prefix: str) -> tuple[bytes, int]:
    """NDJSON `_bulk` body for `records`; (body, number of dead-letter documents).

    A line that is not a JSON object goes to `<prefix>-deadletter` raw, with the reason."""
    # BEGIN SOLUTION
    out: list[bytes] = []
    dead = 0
    for record in records:
        doc_id = document_id(record.dev, record.inode, record.offset)
        text = record.line.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            index = daily_index(prefix, doc.get("@timestamp"))
        except ValueError as exc:
            dead += 1
            doc = {"raw": text, "error": str(exc).splitlines()[0][:200],
                   "@timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
            index = f"{prefix}-{DEAD_LETTER_SUFFIX}"
        doc["log"] = {"file": record.path, "offset": record.offset}
        out.append(json.dumps({"index": {"_index": index, "_id": doc_id}}).encode())
        out.append(json.dumps(doc, default=str).encode())
    return b"\n".join(out) + b"\n", dead
    # END SOLUTION


class Tailer:
    """Reads complete lines from a set of paths, following rotation, from saved offsets."""

    def __init__(self, paths: Sequence[Path], states: dict[str, FileState]) -> None:
        self.paths = [Path(p) for p in paths]
        self.states = states
        self.rotations = 0

    def read(self, limit: int) -> list[Record]:
        """Up to `limit` complete lines over all paths (a partial last line waits)."""
        records: list[Record] = []
        for path in self.paths:
            if len(records) >= limit:
                break
            records += self._read_path(path, limit - len(records))
        return records

    def _read_path(self, path: Path, limit: int) -> list[Record]:
        # BEGIN SOLUTION
        key = str(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            st = None
        state = self.states.get(key)
        if state is not None and (st is None or st.st_ino != state.inode):
            # Rotated (or removed): finish the old file under its new name first.
            old = _find_by_inode(path, state.dev, state.inode)
            if old is not None:
                records = _read_lines(old, key, state, limit)
                if records:
                    return records  # commit() advances the old file's offset
            if st is None:
                return []
            self.rotations += 1
            state = None
        if st is None:
            return []
        if state is None:
            state = FileState(st.st_dev, st.st_ino, 0)
            self.states[key] = state
        if st.st_size < state.offset:  # truncated in place
            state.offset = 0
        records = _read_lines(path, key, state, limit)
        return records
        # END SOLUTION

    def commit(self, records: Sequence[Record]) -> None:
        """Advance the offsets past `records` (after they are safe)."""
        for record in records:
            state = self.states.get(record.path)
            if state is not None and state.inode == record.inode and record.end > state.offset:
                state.offset = record.end


def _find_by_inode(path: Path, dev: int, inode: int) -> Path | None:
    for candidate in sorted(path.parent.glob(path.name + ".*")):
        try:
            st = candidate.stat()
        except OSError:
            continue
        if st.st_ino == inode and st.st_dev == dev:
            return candidate
    return None


def _read_lines(path: Path, key: str, state: FileState, limit: int) -> list[Record]:
    records: list[Record] = []
    try:
        with path.open("rb") as handle:
            handle.seek(state.offset)
            offset = state.offset
            while len(records) < limit:
                line = handle.readline()
                if not line or not line.endswith(b"\n"):
                    break
                end = offset + len(line)
                if line.strip():
                    records.append(Record(key, state.dev, state.inode, offset, end, line))
                offset = end
    except FileNotFoundError:
        return []
    return records


class Shipper:
    """Tail `paths` into Elasticsearch; state (offsets, buffer) lives in `settings.state_dir`."""

    def __init__(self, paths: Sequence[Path], sink: ElasticsearchSink, prefix: str,
                 settings: ShipperSettings) -> None:
        self.sink = sink
        self.prefix = prefix
        self.settings = settings
        self.state_dir = Path(settings.state_dir)
        self.buffer_dir = self.state_dir / "buffer"
        self.buffer_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.state_dir / "checkpoints.json"
        self.tailer = Tailer(paths, self._load_checkpoints())
        self.stats = ShipStats()
        self._template_done = False
        self._seq = max((int(p.stem) for p in self.buffer_dir.glob("*.ndjson")
                         if p.stem.isdigit()), default=0)

    # ------------------------------------------------------------------ checkpoints

    def _load_checkpoints(self) -> dict[str, FileState]:
        try:
            raw = json.loads(self.checkpoint_path.read_text())
            return {k: FileState(int(v["dev"]), int(v["inode"]), int(v["offset"]))
                    for k, v in raw.get("files", {}).items()}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("damaged checkpoint file %s: starting from the beginning "
                        "(ids make the replay overwrite, not duplicate)", self.checkpoint_path)
            return {}

    def _save_checkpoints(self) -> None:
        atomic_write_json(self.checkpoint_path, {"files": {
            k: {"dev": s.dev, "inode": s.inode, "offset": s.offset}
            for k, s in self.tailer.states.items()}})

    # ------------------------------------------------------------------ buffer

    def buffered_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.buffer_dir.glob("*.ndjson"))

    def _park(self, body: bytes) -> None:
        self._seq += 1
        atomic_write_bytes(self.buffer_dir / f"{self._seq:012d}.ndjson", body)
        self.stats.buffered_batches += 1

    def drain_buffer(self) -> bool:
        """Send parked batches oldest first; False while Elasticsearch is still down."""
        for path in sorted(self.buffer_dir.glob("*.ndjson")):
            try:
                self._send(path.read_bytes())
            except SinkUnavailableError as exc:
                self._note(str(exc))
                return False
            path.unlink()
        return True

    # ------------------------------------------------------------------ sending

    def _note(self, message: str) -> None:
        if not self.stats.errors or self.stats.errors[-1] != message:
            self.stats.errors.append(message)
            log.warning("%s", message)

    def _send(self, body: bytes) -> None:
        """Send one bulk body with retries; item failures that can succeed later are
        retried, items Elasticsearch rejects for good are re-sent to the dead-letter index."""
        # BEGIN SOLUTION
        attempt = 0
        while True:
            try:
                items = self.sink.bulk(body)
            except SinkUnavailableError:
                if attempt >= self.settings.max_retries:
                    raise
                attempt += 1
                self.stats.retries += 1
                time.sleep(self.settings.retry_backoff_s * 2 ** (attempt - 1))
                continue
            lines = body.split(b"\n")
            retry, rejected = [], []
            for i, item in enumerate(items):
                status = int(item.get("status", 500))
                if status < 300:
                    continue
                pair = [lines[2 * i], lines[2 * i + 1]]
                if status in RETRYABLE:
                    retry += pair
                else:
                    rejected.append((pair, item.get("error")))
            if rejected:
                dead = []
                for (action, source), error in rejected:
                    meta = json.loads(action)["index"]
                    dead.append(json.dumps({"index": {
                        "_index": f"{self.prefix}-{DEAD_LETTER_SUFFIX}",
                        "_id": meta["_id"]}}).encode())
                    dead.append(json.dumps({
                        "raw": source.decode("utf-8", "replace"),
                        "error": json.dumps(error)[:300],
                        "@timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    }).encode())
                    self.stats.dead_letter += 1
                retry += dead
            if not retry:
                return
            if attempt >= self.settings.max_retries:
                raise SinkUnavailableError(f"{len(retry) // 2} document(s) still failing after "
                                      f"{attempt} retries")
            attempt += 1
            self.stats.retries += 1
            body = b"\n".join(retry) + b"\n"
            time.sleep(self.settings.retry_backoff_s * 2 ** (attempt - 1))
        # END SOLUTION

    def ship_once(self) -> int:
        """One step: drain the buffer, read one batch, send or park it. Returns the number
        of lines taken from the files (0: nothing new, or backpressure)."""
        # BEGIN SOLUTION
        if not self._template_done:
            try:
                self.sink.put_template(self.prefix, index_template(self.prefix))
                self._template_done = True
            except SinkUnavailableError as exc:
                self._note(str(exc))
        drained = self.drain_buffer()
        if not drained and self.buffered_bytes() >= self.settings.buffer_max_bytes:
            self.stats.backpressure_waits += 1
            return 0
        records = self.tailer.read(self.settings.batch_size)
        self.stats.rotations = self.tailer.rotations
        if not records:
            self._save_checkpoints()  # records rotation / truncation state
            return 0
        body, dead = bulk_body(records, self.prefix)
        try:
            if not drained:
                raise SinkUnavailableError("buffer not drained yet")  # keep the order
            self._send(body)
            self.stats.indexed += len(records) - dead
        except SinkUnavailableError as exc:
            self._note(str(exc))
            self._park(body)
        self.stats.dead_letter += dead
        self.stats.lines += len(records)
        self.stats.batches += 1
        self.tailer.commit(records)
        self._save_checkpoints()
        return len(records)
        # END SOLUTION

    def run(self, stop: threading.Event | None = None, once: bool = False,
            progress: Any = None) -> ShipStats:
        """Ship until `stop` is set (or, with `once`, until the files are read and the
        buffer is empty or Elasticsearch stays down)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            taken = self.ship_once()
            if progress is not None and taken:
                progress(taken)
            if taken:
                continue
            if once:  # files read; the buffer was tried once more (it stays on disk)
                break
            stop.wait(self.settings.flush_interval_s)
        return self.stats


def expand_paths(patterns: Iterable[str]) -> list[Path]:
    """Files named or matched by glob patterns (a pattern with no match is kept as a path
    to wait for)."""
    out: list[Path] = []
    for pattern in patterns:
        matches = sorted(Path().glob(pattern)) if any(c in pattern for c in "*?[") else []
        out += matches or [Path(pattern)]
    return [p for p in dict.fromkeys(out) if not p.name.endswith(tuple(f".{i}" for i in
                                                                        range(1, 10)))]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
