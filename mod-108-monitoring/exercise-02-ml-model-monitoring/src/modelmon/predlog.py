"""The prediction log and the ground-truth label log: JSON lines, one record per line.

    predictions: {"id": "p-1", "ts": 1.7e9, "model": "churn", "version": "v1",
                  "features": {"f0": 0.3, "f1": null}, "prediction": 1, "score": 0.81}
    labels:      {"id": "p-1", "ts": 1.7e9, "label": 0, "value": 30.0}   (value optional)

The service appends; the exporter tails. Tailing keeps the file open at a byte offset, only
consumes complete lines (a writer may be mid-line), starts over when the file shrinks
(truncation) and follows rename rotation (`mv log log.1`, new `log`): the old file is read to
its end, then the new one from its start. With a state file the offset of the last consumed
line is persisted with the file's identity (device, inode, a hash of its first bytes, so a
log deleted and recreated on a reused inode is not mistaken for the old one), atomically, so a
restarted exporter resumes there instead of re-reading (and double counting) the log; if the
log was rotated while it was down, the rotated file is found by its inode in the same folder
and finished first. Known limits: lines a writer appends to the rotated file after the
switch are not read, and a truncation followed by a rewrite past the old offset before the
next read looks like growth.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from aiinfra_shared.io import atomic_write_json


class MalformedRecordError(ValueError):
    """A log line that is not a valid record; the exporter counts and skips these."""


@dataclass(frozen=True)
class PredictionRecord:
    id: str
    ts: float
    model: str
    version: str
    features: Mapping[str, float | None]
    prediction: float
    score: float | None = None

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "ts": self.ts, "model": self.model,
                           "version": self.version, "features": dict(self.features),
                           "prediction": self.prediction, "score": self.score},
                          separators=(",", ":"))


@dataclass(frozen=True)
class LabelRecord:
    """A delayed outcome: the ground-truth label and, optionally, the business value it
    realised (e.g. revenue kept or earned), the input of the business KPIs."""

    id: str
    ts: float
    label: float
    value: float | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {"id": self.id, "ts": self.ts, "label": self.label}
        if self.value is not None:
            data["value"] = self.value
        return json.dumps(data, separators=(",", ":"))


def _number(value: Any, field: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRecordError(f"{field} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise MalformedRecordError(f"{field} must be finite, got {value!r}")
    return number


def _load(line: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise MalformedRecordError(f"not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise MalformedRecordError("record is not a JSON object")
    return data


def _text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise MalformedRecordError(f"{field} must be a non-empty string")
    return value


def parse_prediction(line: str) -> PredictionRecord:
    """Parse one prediction-log line or raise MalformedRecordError saying why."""
    # BEGIN SOLUTION: validate every field with _load, _number and _text
    data = _load(line)
    features = data.get("features")
    if not isinstance(features, dict):
        raise MalformedRecordError("features must be an object")
    parsed = {str(k): _number(v, f"features.{k}", allow_none=True) for k, v in features.items()}
    ts = _number(data.get("ts"), "ts")
    prediction = _number(data.get("prediction"), "prediction")
    assert ts is not None and prediction is not None
    return PredictionRecord(
        id=_text(data, "id"), ts=ts, model=_text(data, "model"),
        version=_text(data, "version"), features=parsed, prediction=prediction,
        score=_number(data.get("score"), "score", allow_none=True),
    )
    # END SOLUTION


def parse_label(line: str) -> LabelRecord:
    """Parse one label-log line or raise MalformedRecordError saying why."""
    data = _load(line)
    ts = _number(data.get("ts"), "ts")
    label = _number(data.get("label"), "label")
    assert ts is not None and label is not None
    return LabelRecord(id=_text(data, "id"), ts=ts, label=label,
                       value=_number(data.get("value"), "value", allow_none=True))


FileId = tuple[int, int]  # (st_dev, st_ino)
HEAD_BYTES = 64  # fingerprint of a file's start: tells a recreated file from a reused inode


class LogTail:
    """Yields the complete lines appended to `path` since the last call; with `state_path`,
    also across restarts (offset + inode persisted after every read that consumed lines)."""

    def __init__(self, path: Path, state_path: Path | None = None) -> None:
        self.path = Path(path)
        self.state_path = None if state_path is None else Path(state_path)
        self.offset = 0  # end of the last complete line consumed from the current file
        self.file_id: FileId | None = None
        self._partial = b""
        self._handle: IO[bytes] | None = None
        self._head: str | None = None  # fingerprint saved with the offset
        if self.state_path is not None:
            self._load_state()

    def _load_state(self) -> None:
        assert self.state_path is not None
        try:
            state = json.loads(self.state_path.read_text())
            file_id = (int(state["dev"]), int(state["inode"]))
            offset = int(state["offset"])
            head = state.get("head")
        except (OSError, ValueError, KeyError, TypeError):
            return  # no (readable) state: start at the beginning
        self.file_id, self.offset = file_id, max(0, offset)
        self._head = head if isinstance(head, str) else None

    def _save_state(self) -> None:
        if self.state_path is None or self.file_id is None:
            return
        head = None if self._handle is None else _fingerprint(self._handle)
        atomic_write_json(self.state_path, {"path": self.path.name, "dev": self.file_id[0],
                                            "inode": self.file_id[1], "offset": self.offset,
                                            "head": head})

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def read_lines(self, max_bytes: int = 64 * 1024 * 1024) -> Iterator[str]:
        # BEGIN SOLUTION: finish the current (maybe rotated) file, follow the path to a new
        # inode, start over on truncation; persist offset + inode once lines were consumed
        before = (self.file_id, self.offset)
        if self._handle is None:
            yield from self._open(max_bytes)
        if self._handle is not None:
            yield from self._drain(max_bytes)
            current = _file_id(self.path)
            if current is not None and current != self.file_id:  # renamed away: rotation
                yield from self._drain(max_bytes)
                yield from self._finish()
                yield from self._open(max_bytes, at_start=True)
                if self._handle is not None:
                    yield from self._drain(max_bytes)
        if (self.file_id, self.offset) != before:
            self._save_state()
        # END SOLUTION

    def _open(self, max_bytes: int, at_start: bool = False) -> Iterator[str]:
        """Open the path; resume at the saved offset when it is the same file, else finish
        the rotated file first (found by inode next to the path) and start at 0."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        stat = os.fstat(handle.fileno())
        file_id = (stat.st_dev, stat.st_ino)
        if not at_start and self.file_id is not None and file_id != self.file_id:
            rotated = _find_by_id(self.path.parent, self.file_id)
            if rotated is not None:
                with contextlib.suppress(OSError):
                    self._handle = rotated.open("rb")
                    self._handle.seek(self.offset)
                    yield from self._drain(max_bytes)
                    yield from self._finish()
            at_start = True
        if at_start or self.file_id != file_id or stat.st_size < self.offset or (
                self._head is not None and _fingerprint(handle, self._head) != self._head):
            self.offset = 0  # another file (or one deleted and recreated on the same inode)
        self._head = None
        self._handle, self.file_id, self._partial = handle, file_id, b""
        handle.seek(self.offset)

    def _drain(self, max_bytes: int) -> Iterator[str]:
        """Complete lines from the open file's position (up to `max_bytes` per call)."""
        assert self._handle is not None
        position = self.offset + len(self._partial)
        if os.fstat(self._handle.fileno()).st_size < position:  # truncated: start over
            self.offset, self._partial = 0, b""
            position = 0
        self._handle.seek(position)
        chunk = self._handle.read(max_bytes)
        if not chunk:
            return
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        self.offset += len(data) - len(self._partial)
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                yield text

    def _finish(self) -> Iterator[str]:
        """Close a rotated file; its last line, if it had no newline, is still a line."""
        text = self._partial.decode("utf-8", errors="replace").strip()
        self.close()
        self._partial = b""
        if text:
            yield text


def _fingerprint(handle: IO[bytes], like: str | None = None) -> str:
    """`<n>:<hash>` of the file's first bytes (n = HEAD_BYTES, or the n of `like`)."""
    size = HEAD_BYTES
    if like is not None:
        with contextlib.suppress(ValueError):
            size = int(like.split(":", 1)[0])
    data = os.pread(handle.fileno(), size, 0)
    return f"{len(data)}:{hashlib.sha256(data).hexdigest()[:16]}"


def _file_id(path: Path) -> FileId | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _find_by_id(folder: Path, file_id: FileId) -> Path | None:
    """The file in `folder` with this (device, inode), e.g. `log.1` after a rotation."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                stat = entry.stat(follow_symlinks=False)
                if (stat.st_dev, stat.st_ino) == file_id and entry.is_file():
                    return Path(entry.path)
    return None


class JsonlWriter:
    """Thread-safe line appender (one write per record, flushed, so tailers see whole lines)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._handle = self.path.open("a", encoding="utf-8")

    def write(self, line: str) -> None:
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            self._handle.close()
