"""The shipper against the real Elasticsearch API (noida-db): checkpoints, rotation,
replays without duplicates, dead letters, the disk buffer, backpressure, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiinfra_shared.procs.ports import free_port

from obsstack.config import ShipperSettings
from obsstack.ship import ElasticsearchSink, Shipper, daily_index, document_id

pytestmark = pytest.mark.integration
EXE = str(Path(sys.executable).parent / "obsstack")


def _line(i: int, day: str = "2026-12-01", trace: str = "") -> str:
    return json.dumps({"@timestamp": f"{day}T10:00:{i % 60:02d}.000Z", "level": "info",
                       "service": "model", "message": f"line {i}",
                       "trace_id": trace or f"{i:032x}", "span_id": f"{i:016x}"}) + "\n"


def _prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _count(es: Any, index: str) -> int:
    httpx.post(f"{es.url}/{index}/_refresh", timeout=10)
    response = httpx.get(f"{es.url}/{index}/_count", timeout=10)
    return int(response.json()["count"]) if response.status_code == 200 else 0


def _shipper(es_url: str, paths: list[Path], prefix: str, state: Path, **kw: Any) -> Shipper:
    settings = ShipperSettings(state_dir=state, flush_interval_s=0.05, retry_backoff_s=0.01,
                               **kw)
    return Shipper(paths, ElasticsearchSink(es_url), prefix, settings)


@pytest.mark.points(5)
def test_ships_every_line_into_daily_indices_with_the_template(
        elasticsearch: Any, tmp_path: Path) -> None:
    log = tmp_path / "model.log"
    log.write_text("".join(_line(i, "2026-12-01") for i in range(30))
                   + "".join(_line(i, "2026-12-02") for i in range(30, 50))
                   + '{"partial": "no newline yet')
    prefix = _prefix()
    stats = _shipper(elasticsearch.url, [log], prefix, tmp_path / "state",
                     batch_size=7).run(once=True)
    assert stats.lines == 50 and stats.indexed == 50 and stats.batches == 8
    assert _count(elasticsearch, f"{prefix}-2026.12.01") == 30
    assert _count(elasticsearch, f"{prefix}-2026.12.02") == 20
    mapping = httpx.get(f"{elasticsearch.url}/{prefix}-2026.12.01/_mapping", timeout=10).json()
    props = mapping[f"{prefix}-2026.12.01"]["mappings"]["properties"]
    assert props["trace_id"]["type"] == "keyword" and props["@timestamp"]["type"] == "date"
    # the partial line waits for its newline
    checkpoint = json.loads((tmp_path / "state" / "checkpoints.json").read_text())
    assert checkpoint["files"][str(log)]["offset"] == len(log.read_bytes()) - len(
        '{"partial": "no newline yet')


@pytest.mark.points(5)
def test_a_replay_overwrites_instead_of_duplicating(elasticsearch: Any, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(_line(i) for i in range(40)))
    prefix = _prefix()
    _shipper(elasticsearch.url, [log], prefix, tmp_path / "state").run(once=True)
    (tmp_path / "state" / "checkpoints.json").unlink()  # lost checkpoint: full replay
    stats = _shipper(elasticsearch.url, [log], prefix, tmp_path / "state").run(once=True)
    assert stats.lines == 40
    assert _count(elasticsearch, f"{prefix}-*") == 40
    st = log.stat()
    assert document_id(st.st_dev, st.st_ino, 0) != document_id(st.st_dev, st.st_ino, 1)


@pytest.mark.points(5)
@pytest.mark.hidden
def test_rotation_is_followed_without_losing_the_old_tail(
        elasticsearch: Any, tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text("".join(_line(i) for i in range(10)))
    prefix = _prefix()
    shipper = _shipper(elasticsearch.url, [log], prefix, tmp_path / "state")
    shipper.run(once=True)
    with log.open("a") as handle:  # written after the last read, before the rotation
        handle.write("".join(_line(i) for i in range(10, 15)))
    log.rename(tmp_path / "svc.log.1")
    log.write_text("".join(_line(i) for i in range(15, 25)))
    stats = shipper.run(once=True)
    assert stats.rotations == 1
    assert _count(elasticsearch, f"{prefix}-*") == 25
    # a restarted shipper with the same state reads nothing again
    again = _shipper(elasticsearch.url, [log], prefix, tmp_path / "state").run(once=True)
    assert again.lines == 0


@pytest.mark.points(4)
def test_malformed_lines_go_raw_to_the_dead_letter_index(
        elasticsearch: Any, tmp_path: Path) -> None:
    log = tmp_path / "m.log"
    log.write_text(_line(1) + "this is not json\n" + "[1, 2]\n" + _line(2))
    prefix = _prefix()
    stats = _shipper(elasticsearch.url, [log], prefix, tmp_path / "state").run(once=True)
    assert stats.dead_letter == 2 and stats.indexed == 2
    httpx.post(f"{elasticsearch.url}/{prefix}-deadletter/_refresh", timeout=10)
    hits = httpx.post(f"{elasticsearch.url}/{prefix}-deadletter/_search", timeout=10,
                      json={"query": {"match_all": {}}}).json()["hits"]["hits"]
    raws = sorted(h["_source"]["raw"] for h in hits)
    assert raws == ["[1, 2]", "this is not json"]
    assert all(h["_source"]["error"] for h in hits)
    assert _count(elasticsearch, f"{prefix}-2026.12.01") == 2


@pytest.mark.points(6)
def test_elasticsearch_down_buffers_on_disk_then_delivers(
        elasticsearch: Any, tmp_path: Path) -> None:
    log = tmp_path / "b.log"
    log.write_text("".join(_line(i) for i in range(30)))
    prefix = _prefix()
    down = f"http://127.0.0.1:{free_port()}"
    shipper = _shipper(down, [log], prefix, tmp_path / "state", batch_size=10, max_retries=1)
    stats = shipper.run(once=True)
    assert stats.lines == 30 and stats.indexed == 0 and stats.buffered_batches == 3
    assert len(list((tmp_path / "state" / "buffer").glob("*.ndjson"))) == 3
    assert any("unreachable" in e for e in stats.errors)
    # Elasticsearch is back: a new shipper on the same state drains the buffer
    back = _shipper(elasticsearch.url, [log], prefix, tmp_path / "state").run(once=True)
    assert back.lines == 0
    assert not list((tmp_path / "state" / "buffer").glob("*.ndjson"))
    assert _count(elasticsearch, f"{prefix}-*") == 30


@pytest.mark.points(5)
@pytest.mark.hidden
def test_a_full_buffer_stops_reading_instead_of_dropping(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    log.write_text("".join(_line(i) for i in range(100)))
    down = f"http://127.0.0.1:{free_port()}"
    shipper = _shipper(down, [log], _prefix(), tmp_path / "state", batch_size=10,
                       max_retries=0, buffer_max_bytes=1024)
    for _ in range(5):
        shipper.ship_once()
    assert shipper.stats.buffered_batches == 1  # one batch (> 1 KiB) fills the buffer
    assert shipper.stats.backpressure_waits == 4
    offset = json.loads((tmp_path / "state" / "checkpoints.json").read_text())[
        "files"][str(log)]["offset"]
    assert offset == len("".join(_line(i) for i in range(10)).encode())


@pytest.mark.points(8)
def test_kill_9_mid_file_then_restart_indexes_each_line_once(
        elasticsearch: Any, tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    total = 10_000
    log.write_text("".join(_line(i) for i in range(total)))
    prefix = _prefix()
    state = tmp_path / "state"
    env = {**os.environ, "OBSSTACK_ELASTICSEARCH_URL": elasticsearch.url,
           "OBSSTACK_INDEX_PREFIX": prefix, "OBSSTACK_SHIPPER__STATE_DIR": str(state),
           "OBSSTACK_SHIPPER__BATCH_SIZE": "25"}
    process = subprocess.Popen([EXE, "ship", str(log), "--once"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = state / "checkpoints.json"
    offset = 0
    deadline = time.monotonic() + 60
    while offset == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        if checkpoint.exists():
            offset = json.loads(checkpoint.read_text())["files"][str(log)]["offset"]
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL, "the shipper finished before the kill"
    assert 0 < offset < log.stat().st_size
    env["OBSSTACK_SHIPPER__BATCH_SIZE"] = "500"  # ids come from offsets, not batches
    restart = subprocess.run([EXE, "ship", str(log), "--once"], env=env, capture_output=True,
                             text=True, check=False, timeout=300)
    assert restart.returncode == 0, restart.stderr
    assert _count(elasticsearch, f"{prefix}-*") == total


@pytest.mark.points(2)
@pytest.mark.hidden
def test_daily_index_names() -> None:
    assert daily_index("p", "2026-12-01T23:59:59.999Z") == "p-2026.12.01"
    assert daily_index("p", "2026-12-01T23:30:00-02:00") == "p-2026.12.02"
    assert daily_index("p", "garbage").startswith("p-20")
