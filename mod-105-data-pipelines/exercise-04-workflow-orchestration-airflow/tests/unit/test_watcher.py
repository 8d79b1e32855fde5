"""The data DAG's AssetWatcher trigger: claims each new file once, in arrival order."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from airflow.sdk.module_loading import import_string
from airflow.triggers.base import TriggerEvent

from mlworkflows.sensors import IncomingFileTrigger


def _write(path: Path, text: str, mtime: float) -> None:
    path.write_text(text)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    incoming, arrived = tmp_path / "incoming", tmp_path / "arrived"
    incoming.mkdir()
    return incoming, arrived


@pytest.mark.points(3)
def test_each_file_is_claimed_once_oldest_first_and_one_at_a_time(
        folders: tuple[Path, Path]) -> None:
    incoming, arrived = folders
    _write(incoming / "b.csv", "b", 2_000_000_000)
    _write(incoming / "a.csv", "a", 1_000_000_000)
    ours = IncomingFileTrigger(incoming=str(incoming), arrived=str(arrived))
    other = IncomingFileTrigger(incoming=str(incoming), arrived=str(arrived))  # an HA twin

    first = ours.claim_next()
    assert first is not None and first["name"] == "a.csv" and first["bytes"] == 1
    assert Path(first["path"]) == arrived / "a.csv" and not (incoming / "a.csv").exists()
    # a.csv's run has not consumed it yet: no second event (it would fold into one run)
    assert other.claim_next() is None and ours.claim_next() is None
    (arrived / "a.csv").unlink()  # the run published (or quarantined) it
    second = other.claim_next()
    assert second is not None and second["name"] == "b.csv"
    (arrived / "b.csv").unlink()
    assert ours.claim_next() is None and not list(incoming.iterdir())


@pytest.mark.points(2)
@pytest.mark.hidden
def test_half_written_and_other_files_are_never_claimed(folders: tuple[Path, Path]) -> None:
    incoming, arrived = folders
    _write(incoming / ".batch.csv.x1.tmp", "half", 1_000_000_000)  # atomic writer's temp file
    _write(incoming / "notes.txt", "n", 1_000_000_000)
    (incoming / "folder.csv").mkdir()
    trigger = IncomingFileTrigger(incoming=str(incoming), arrived=str(arrived))
    assert trigger.claim_next() is None
    assert sorted(p.name for p in incoming.iterdir()) == [".batch.csv.x1.tmp", "folder.csv",
                                                         "notes.txt"]


@pytest.mark.points(2)
def test_serialized_trigger_runs_in_an_event_loop_and_fires(folders: tuple[Path, Path]) -> None:
    """What the triggerer does: rebuild the trigger from serialize(), iterate run()."""
    incoming, arrived = folders
    classpath, kwargs = IncomingFileTrigger(incoming=str(incoming), arrived=str(arrived),
                                            poke_interval=0.05).serialize()
    trigger = import_string(classpath)(**kwargs)

    async def first_event() -> TriggerEvent:
        events = trigger.run()
        waiting = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.2)  # a few empty polls first
        assert not waiting.done()
        _write(incoming / "late.csv", "x,y\n1,2\n", 1_000_000_000)
        event: TriggerEvent = await asyncio.wait_for(waiting, timeout=30)
        return event

    event = asyncio.run(first_event())
    assert event.payload == {"path": str(arrived / "late.csv"), "name": "late.csv", "bytes": 8}
