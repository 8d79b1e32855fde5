"""Failover with a concurrent writer, the service pointer, and failback with pg_rewind."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from drkit.adapters import postgres as pg
from drkit.drills import MarkerWriter, Stack
from drkit.errors import ConflictError
from drkit.failover import failback, failover, fence

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def present_ids(dsn: str) -> set[int]:
    with pg.connect(dsn) as conn:
        return {int(r[0]) for r in conn.execute("SELECT id FROM drkit_markers").fetchall()}


def writer_for(stack: Stack) -> MarkerWriter:
    assert stack.standby is not None
    writer = MarkerWriter(pg.multi_host_dsn([stack.primary.endpoint, stack.standby.endpoint]))
    writer.ensure_table()
    return writer


@pytest.mark.points(10)
def test_sync_failover_loses_no_acknowledged_write(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory("sync")
    old, new = stack.primary, stack.standby
    assert new is not None
    writer = writer_for(stack)
    writer.start()
    time.sleep(0.7)
    old.crash()
    result = failover(old, new, stack.pointer, mode="sync", detect_timeout=20)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(p == new.endpoint.port
                                                  for p in writer.served_by):
        time.sleep(0.05)
    time.sleep(0.3)
    writer.stop()
    acked = {i for i, _ in writer.acknowledged}
    by_old = sum(1 for p in writer.served_by if p == old.endpoint.port)
    by_new = sum(1 for p in writer.served_by if p == new.endpoint.port)
    assert by_old > 5 and by_new > 0, (by_old, by_new)  # the client really moved over
    assert acked <= present_ids(new.endpoint.dsn)  # nothing acknowledged was lost
    assert result.timeline == 2 and result.detection_s > 0
    assert "standby.signal written" in result.fence_actions


@pytest.mark.points(4)
def test_pointer_file_and_route53_record_switch(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory("async")
    old, new = stack.primary, stack.standby
    assert new is not None and stack.pointer.record is not None
    assert stack.pointer.record.current() == (old.endpoint.host, old.endpoint.port)
    old.crash()
    failover(old, new, stack.pointer, mode="async", detect_timeout=20)
    assert stack.pointer.record.current() == (new.endpoint.host, new.endpoint.port)
    data = json.loads(stack.pointer.file.read_text())
    assert data["primary"]["port"] == new.endpoint.port
    assert pg.probe(new.endpoint.dsn) == (True, False)


@pytest.mark.points(3)
@pytest.mark.hidden
def test_failover_refuses_while_primary_is_healthy(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory("async")
    assert stack.standby is not None
    with pytest.raises(ConflictError, match="still healthy"):
        failover(stack.primary, stack.standby, stack.pointer, mode="async", detect_timeout=1.5)
    assert pg.probe(stack.standby.endpoint.dsn) == (True, True)  # not promoted


@pytest.mark.points(8)
def test_failback_with_pg_rewind_rejoins_as_standby(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory("sync")
    old, new = stack.primary, stack.standby
    assert new is not None
    writer = writer_for(stack)
    writer.write(10)
    old.crash()
    failover(old, new, stack.pointer, mode="sync", detect=False)
    writer.write(10)  # diverge: the new timeline has rows the old primary never saw
    assert old.data_dir is not None and (old.data_dir / "standby.signal").exists()
    info = failback(old, new, mode="sync")
    assert info["standby"] == old.name
    assert pg.probe(old.endpoint.dsn) == (True, True)  # back, read-only
    writer.write(5)  # sync again: acknowledged only once the rejoined standby has it
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and present_ids(old.endpoint.dsn) != present_ids(
            new.endpoint.dsn):
        time.sleep(0.1)
    assert present_ids(old.endpoint.dsn) == {i for i, _ in writer.acknowledged}
    assert pg.scalar(new.endpoint.dsn, "SHOW synchronous_standby_names") == old.name


@pytest.mark.points(2)
@pytest.mark.hidden
def test_fence_refuses_a_reachable_node_without_data_dir(
        stack_factory: Callable[..., Stack]) -> None:
    from drkit.adapters.nodes import PgCtlNode

    stack = stack_factory("async")
    node = PgCtlNode("remote", stack.primary.endpoint, None)
    with pytest.raises(ConflictError, match="split brain"):
        fence(node)
