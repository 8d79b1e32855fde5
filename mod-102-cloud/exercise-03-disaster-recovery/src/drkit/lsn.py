"""PostgreSQL log sequence numbers and WAL segment file names (pure arithmetic).

Why it matters: a restore is only possible when every WAL segment from the backup's start
to the recovery target is present. Segment names encode (timeline, log, segment) in 24 hex
digits; with the default 16 MiB segments there are 256 segments per "log" (4 GiB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

SEGMENT_SIZE = 16 * 1024 * 1024
SEGMENTS_PER_LOG = 0x1_0000_0000 // SEGMENT_SIZE

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_SEGMENT = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$")
_HISTORY = re.compile(r"^([0-9A-F]{8})\.history$")


@total_ordering
@dataclass(frozen=True)
class Lsn:
    """A WAL position (`0/3000060`), comparable and convertible to its segment."""

    value: int

    @classmethod
    def parse(cls, text: str) -> Lsn:
        # BEGIN SOLUTION: "HI/LO" hex halves; HI is the high 32 bits
        match = _LSN.match(text.strip())
        if not match:
            raise ValueError(f"invalid LSN {text!r} (expected like 0/3000060)")
        return cls((int(match.group(1), 16) << 32) | int(match.group(2), 16))
        # END SOLUTION

    def __str__(self) -> str:
        return f"{self.value >> 32:X}/{self.value & 0xFFFFFFFF:X}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Lsn):
            return NotImplemented
        return self.value < other.value

    def segment(self, timeline: int) -> Segment:
        """The segment holding this position on `timeline`."""
        return Segment(timeline, self.value // SEGMENT_SIZE)


@total_ordering
@dataclass(frozen=True)
class Segment:
    """One WAL segment: timeline plus its absolute number (log * 256 + seg)."""

    timeline: int
    number: int

    @property
    def name(self) -> str:
        # BEGIN SOLUTION: 8 hex digits each for timeline, log (number // 256), seg (number % 256)
        log, seg = divmod(self.number, SEGMENTS_PER_LOG)
        return f"{self.timeline:08X}{log:08X}{seg:08X}"
        # END SOLUTION

    @classmethod
    def parse(cls, name: str) -> Segment:
        match = _SEGMENT.match(name)
        if not match:
            raise ValueError(f"not a WAL segment file name: {name!r}")
        timeline, log, seg = (int(part, 16) for part in match.groups())
        return cls(timeline, log * SEGMENTS_PER_LOG + seg)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return (self.number, self.timeline) < (other.number, other.timeline)

    @property
    def start_lsn(self) -> Lsn:
        return Lsn(self.number * SEGMENT_SIZE)


def is_segment_name(name: str) -> bool:
    return bool(_SEGMENT.match(name))


def is_history_name(name: str) -> bool:
    return bool(_HISTORY.match(name))


def segment_range(start: Segment, stop: Segment) -> list[Segment]:
    """Segments from `start` to `stop` inclusive, on `stop`'s timeline from where it began.

    Within one timeline the numbers are consecutive; across a timeline switch the archive
    holds the old timeline's segments up to the switch and the new one's after it, which
    `find_gaps` accounts for by accepting either timeline for each number.
    """
    if stop.number < start.number:
        return []
    return [Segment(stop.timeline, n) for n in range(start.number, stop.number + 1)]


def find_gaps(available: set[str], start: Segment, stop: Segment,
              timelines: tuple[int, ...] = ()) -> list[str]:
    """Names of the segments missing between `start` and `stop` (inclusive).

    A segment number counts as present when it exists on any of `timelines` (default: the
    start's and the stop's timelines), because a promotion switches timelines mid-archive.
    The reported name is the one on `stop`'s timeline.
    """
    # BEGIN SOLUTION: each number from start to stop must exist on one of the timelines
    allowed = timelines or tuple(sorted({start.timeline, stop.timeline}))
    missing = []
    for number in range(start.number, stop.number + 1):
        if not any(Segment(tli, number).name in available for tli in allowed):
            missing.append(Segment(stop.timeline, number).name)
    return missing
    # END SOLUTION
