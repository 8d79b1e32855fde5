"""The prediction log and the ground-truth label log: JSON lines, one record per line.

    predictions: {"id": "p-1", "ts": 1.7e9, "model": "churn", "version": "v1",
                  "features": {"f0": 0.3, "f1": null}, "prediction": 1, "score": 0.81}
    labels:      {"id": "p-1", "ts": 1.7e9, "label": 0, "value": 30.0}   (value optional)

The service appends; the exporter tails. Tailing keeps a byte offset, only consumes complete
lines (a writer may be mid-line) and starts over when the file shrinks (rotation/truncation).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


class LogTail:
    """Yields the complete lines appended to `path` since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._partial = b""

    def read_lines(self, max_bytes: int = 64 * 1024 * 1024) -> Iterator[str]:
        # BEGIN SOLUTION: complete new lines from the offset; start over when truncated
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size < self.offset:  # truncated or rotated: start over
            self.offset = 0
            self._partial = b""
        if size == self.offset:
            return
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read(max_bytes)
        self.offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                yield text
        # END SOLUTION


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
