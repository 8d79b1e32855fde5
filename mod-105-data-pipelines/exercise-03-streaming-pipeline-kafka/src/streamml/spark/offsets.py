"""Offset ranges for the Kafka data source: pure functions, so they are testable without Spark.

Offsets are `{"<partition>": next_offset}` dicts (JSON-friendly, what Spark checkpoints).
Limits count offsets, like the Spark Kafka connector's `maxOffsetsPerTrigger`: on a
transactional topic a commit marker occupies an offset too.
"""

from __future__ import annotations

from collections.abc import Mapping

Offsets = dict[str, int]


def to_offsets(values: Mapping[int, int]) -> Offsets:
    return {str(p): int(o) for p, o in sorted(values.items())}


def clamp(latest: Mapping[str, int], target: Mapping[str, int] | None) -> Offsets:
    """`latest` but never past `target` (Trigger.AvailableNow's end offsets)."""
    if target is None:
        return dict(latest)
    return {p: min(o, target.get(p, o)) for p, o in latest.items()}


def limit_offsets(start: Mapping[str, int], latest: Mapping[str, int],
                  max_rows: int | None) -> Offsets:
    """The end offsets of the next batch: at most `max_rows` offsets past `start` in total.

    The budget is shared fairly: each partition with data gets an equal share (rounded
    down, the remainder to the lowest partitions), a partition that needs less gives its
    unused share to the others. A partition unknown to `start` (new) starts at 0. Never
    returns an offset below `start`.
    """
    # BEGIN SOLUTION
    begin = {p: int(start.get(p, 0)) for p in latest}
    for p, o in start.items():
        begin.setdefault(p, int(o))
    available = {p: max(int(latest.get(p, begin[p])) - begin[p], 0) for p in begin}
    if max_rows is None:
        return {p: begin[p] + available[p] for p in sorted(begin, key=int)}
    granted = dict.fromkeys(begin, 0)
    budget = max_rows
    wanting = sorted((p for p in begin if available[p] > 0), key=int)
    while budget > 0 and wanting:
        share, extra = divmod(budget, len(wanting))
        if share == 0:
            # Fewer offsets left than partitions: one each to the lowest partitions.
            for p in wanting[:extra]:
                granted[p] += 1
            break
        still: list[str] = []
        used = 0
        for index, p in enumerate(wanting):
            quota = share + (1 if index < extra else 0)
            take = min(quota, available[p] - granted[p])
            granted[p] += take
            used += take
            if granted[p] < available[p]:
                still.append(p)
        budget -= used
        if used == 0:
            break
        wanting = still
    return {p: begin[p] + granted[p] for p in sorted(begin, key=int)}
    # END SOLUTION


def ranges(start: Mapping[str, int], end: Mapping[str, int]) -> list[tuple[int, int, int]]:
    """(partition, from, until) for each partition with offsets to read, in order."""
    out = []
    for p in sorted(end, key=int):
        begin = int(start.get(p, 0))
        if int(end[p]) > begin:
            out.append((int(p), begin, int(end[p])))
    return out
