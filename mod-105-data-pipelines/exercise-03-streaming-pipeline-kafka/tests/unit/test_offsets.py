"""Offset planning of the Kafka data source (backpressure, availableNow), without Spark."""

from __future__ import annotations

import pytest

from streamml.spark.offsets import clamp, limit_offsets, ranges


@pytest.mark.points(3)
def test_max_records_300_over_1000_offsets_gives_4_batches() -> None:
    latest = {"0": 334, "1": 333, "2": 333}
    start: dict[str, int] = {"0": 0, "1": 0, "2": 0}
    sizes = []
    while True:
        end = limit_offsets(start, latest, 300)
        size = sum(end[p] - start.get(p, 0) for p in end)
        if size == 0:
            break
        sizes.append(size)
        start = end
    assert sizes == [300, 300, 300, 100]
    assert start == latest


@pytest.mark.points(2)
def test_budget_is_shared_fairly_and_unused_share_moves_on() -> None:
    start = {"0": 10, "1": 0, "2": 5}
    latest = {"0": 12, "1": 100, "2": 100}
    end = limit_offsets(start, latest, 30)
    assert end == {"0": 12, "1": 14, "2": 19}  # 2 + 14 + 14 = 30
    assert limit_offsets(start, latest, None) == latest
    assert limit_offsets(start, {"0": 10, "1": 0, "2": 5}, 30) == start  # nothing new


@pytest.mark.points(2)
@pytest.mark.hidden
def test_new_partitions_small_budgets_and_available_now_target() -> None:
    # Partition 3 appeared after the last batch: it starts from 0.
    assert limit_offsets({"0": 5}, {"0": 5, "3": 7}, None) == {"0": 5, "3": 7}
    # A budget smaller than the number of partitions still makes progress.
    end = limit_offsets({"0": 0, "1": 0, "2": 0}, {"0": 9, "1": 9, "2": 9}, 2)
    assert sum(end.values()) == 2 and all(v <= 1 for v in end.values())
    # availableNow: never past the offsets recorded when the query started.
    assert clamp({"0": 50, "1": 8}, {"0": 40, "1": 10}) == {"0": 40, "1": 8}
    assert clamp({"0": 50}, None) == {"0": 50}
    assert ranges({"0": 3, "1": 4}, {"0": 3, "1": 9, "2": 2}) == [(1, 4, 9), (2, 0, 2)]
