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


@pytest.mark.points(3)
def test_tail_follows_rename_rotation_without_losing_the_old_tail(tmp_path: Path) -> None:
    """mv log log.1 and a new log: the rest of the old file, then the new one from its
    start, even when the new file is already longer than the old offset."""
    path = tmp_path / "log.jsonl"
    path.write_text("one\ntwo\n")
    tail = LogTail(path, tmp_path / "state.json")
    assert list(tail.read_lines()) == ["one", "two"]
    with path.open("a") as handle:
        handle.write("three\nfour")  # not read yet when the file is rotated
    path.rename(tmp_path / "log.jsonl.1")
    path.write_text("new-1\nnew-2\nnew-3\nnew-4\n")
    assert list(tail.read_lines()) == ["three", "four", "new-1", "new-2", "new-3", "new-4"]
    with path.open("a") as handle:
        handle.write("new-5\n")
    assert list(tail.read_lines()) == ["new-5"]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_tail_resumes_after_restart_and_finds_a_file_rotated_meanwhile(
        tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    state = tmp_path / "state" / "log.offset.json"
    path.write_text("a\nb\npart")
    first = LogTail(path, state)
    assert list(first.read_lines()) == ["a", "b"]
    first.close()
    saved = json.loads(state.read_text())
    assert saved["offset"] == 4 and saved["inode"] == path.stat().st_ino
    again = LogTail(path, state)  # restart, nothing new: nothing re-read
    assert list(again.read_lines()) == []
    again.close()
    with path.open("a") as handle:
        handle.write("ial\nc\n")
    path.rename(tmp_path / "log.jsonl.1")  # rotated while no tailer runs
    path.write_text("d\n")
    resumed = LogTail(path, state)
    assert list(resumed.read_lines()) == ["partial", "c", "d"]
    assert json.loads(state.read_text())["inode"] == path.stat().st_ino
    resumed.close()
    state.write_text("not json")  # a damaged state file: start over, do not crash
    assert list(LogTail(path, state).read_lines()) == ["d"]
    # a log deleted and written anew may reuse the inode: its start tells it apart
    path.write_text("e\n")
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, "offset": 2}))
    assert list(LogTail(path, state).read_lines()) == ["e"]
