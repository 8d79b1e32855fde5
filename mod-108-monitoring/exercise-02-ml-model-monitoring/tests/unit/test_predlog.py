import json
from pathlib import Path

import pytest

from modelmon.predlog import (
    JsonlWriter,
    LabelRecord,
    LogTail,
    MalformedRecordError,
    PredictionRecord,
    parse_label,
    parse_prediction,
)


@pytest.mark.points(1)
def test_prediction_round_trip() -> None:
    record = PredictionRecord("p1", 10.0, "churn", "v1", {"f0": 1.5, "f1": None}, 1, 0.8)
    assert parse_prediction(record.to_json()) == record
    label = LabelRecord("p1", 11.0, 0)
    assert parse_label(label.to_json()) == label


@pytest.mark.parametrize(("line", "why"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"id": "p", "ts": 1, "model": "m", "version": "v", "prediction": 1}', "features"),
    ('{"id": "", "ts": 1, "model": "m", "version": "v", "features": {}, "prediction": 1}',
     "id must be"),
    ('{"id": "p", "ts": "x", "model": "m", "version": "v", "features": {}, "prediction": 1}',
     "ts must be a number"),
    ('{"id": "p", "ts": 1, "model": "m", "version": "v", "features": {"f0": "a"},'
     ' "prediction": 1}', "features.f0"),
    ('{"id": "p", "ts": 1, "model": "m", "version": "v", "features": {}, "prediction": true}',
     "prediction must be a number"),
])
@pytest.mark.points(1)
@pytest.mark.hidden
def test_malformed_prediction_lines_say_why(line: str, why: str) -> None:
    with pytest.raises(MalformedRecordError, match=why):
        parse_prediction(line)


@pytest.mark.points(1)
def test_malformed_label() -> None:
    with pytest.raises(MalformedRecordError, match="label must be"):
        parse_label(json.dumps({"id": "p", "ts": 1, "label": None}))


@pytest.mark.points(3)
def test_tail_reads_only_complete_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    tail = LogTail(path)
    assert list(tail.read_lines()) == []  # missing file is fine
    path.write_text('{"a": 1}\n{"b": 2}\n{"c"')
    assert list(tail.read_lines()) == ['{"a": 1}', '{"b": 2}']
    with path.open("a") as handle:
        handle.write(': 3}\n')
    assert list(tail.read_lines()) == ['{"c": 3}']
    assert list(tail.read_lines()) == []


@pytest.mark.points(2)
@pytest.mark.hidden
def test_tail_starts_over_after_truncation(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("one\ntwo\n")
    tail = LogTail(path)
    assert list(tail.read_lines()) == ["one", "two"]
    path.write_text("x\n")
    assert list(tail.read_lines()) == ["x"]


@pytest.mark.points(1)
def test_writer_appends_lines(tmp_path: Path) -> None:
    writer = JsonlWriter(tmp_path / "sub" / "w.jsonl")
    writer.write("a")
    writer.write("b")
    writer.close()
    assert (tmp_path / "sub" / "w.jsonl").read_text() == "a\nb\n"
