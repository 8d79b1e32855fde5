from __future__ import annotations

import pytest

from drkit.lsn import Lsn, Segment, find_gaps, is_history_name, is_segment_name

pytestmark = pytest.mark.points(1)


@pytest.mark.parametrize(("text", "value"), [("0/0", 0), ("0/3000060", 0x3000060),
                                             ("1/0", 1 << 32), ("A/FF", (10 << 32) | 0xFF)])
def test_lsn_parse_and_format_round_trip(text: str, value: int) -> None:
    assert Lsn.parse(text).value == value
    assert str(Lsn.parse(text)) == text


@pytest.mark.points(2)
def test_segment_names_follow_postgres_layout() -> None:
    assert Lsn.parse("0/3000060").segment(1).name == "000000010000000000000003"
    # 256 segments of 16 MiB per 4 GiB "log": 1/0 is log 1, segment 0
    assert Lsn.parse("1/0").segment(2).name == "000000020000000100000000"
    assert Lsn.parse("0/FF000000").segment(1).name == "0000000100000000000000FF"
    assert Segment.parse("000000020000000100000000") == Segment(2, 256)


def test_invalid_lsn_and_names() -> None:
    with pytest.raises(ValueError, match="invalid LSN"):
        Lsn.parse("3000060")
    assert not is_segment_name("000000010000000000000003.partial")
    assert is_history_name("00000002.history") and not is_segment_name("00000002.history")


@pytest.mark.points(2)
def test_gaps_accept_either_timeline_after_a_promotion() -> None:
    names = {Segment(1, n).name for n in (3, 4, 5)} | {Segment(2, n).name for n in (5, 6, 8)}
    assert find_gaps(names, Segment(1, 3), Segment(2, 8)) == [Segment(2, 7).name]
    assert find_gaps(names, Segment(1, 3), Segment(2, 6)) == []


@pytest.mark.hidden
def test_lsn_ordering() -> None:
    assert Lsn.parse("0/FFFFFFFF") < Lsn.parse("1/0")
    assert sorted([Segment(2, 5), Segment(1, 4)]) == [Segment(1, 4), Segment(2, 5)]
