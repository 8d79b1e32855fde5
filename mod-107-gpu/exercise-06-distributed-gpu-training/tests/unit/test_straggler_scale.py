"""The straggler rule, nccl-tests' bus bandwidth and the ring projection, on numbers."""

from __future__ import annotations

import pytest

from disttrain.commbench import CommResult, bus_factor
from disttrain.scale import ScalePoint, project, ring_allreduce_seconds, summarize
from disttrain.straggler import find_straggler


def _rank(data: float, pre: float, blocked: float, post: float = 5.0) -> dict[str, float]:
    return {"data_ms": data, "pre_ms": pre, "blocked_ms": blocked, "post_ms": post,
            "compute_ms": pre + post}


@pytest.mark.points(3)
def test_the_straggler_is_the_rank_the_others_wait_for() -> None:
    # rank 2 is slow in compute: ranks 0, 1 and 3 wait ~50 ms in the sync point
    ranks = [_rank(1, 10, 51), _rank(1, 10, 49), _rank(1, 60, 0.5), _rank(1, 11, 50)]
    assert find_straggler(ranks, threshold_ms=20) == (2, pytest.approx(49.5), "compute")
    slow_data = [_rank(1, 10, 40), _rank(41, 10, 0.3)]
    assert find_straggler(slow_data, 20)[0::2] == (1, "data")


@pytest.mark.points(2)
def test_backward_time_does_not_fool_it() -> None:
    """Under DDP the fast ranks' backward holds the wait (pytorch#71303): the rank with the
    longest backward is not the straggler."""
    ranks = [_rank(1, 10, 45, post=80), _rank(1, 55, 0.5, post=30)]
    rank, _, _ = find_straggler(ranks, 20)
    assert rank == 1
    assert max(range(2), key=lambda r: ranks[r]["post_ms"]) == 0


@pytest.mark.points(1)
def test_no_straggler_below_the_threshold_or_alone() -> None:
    assert find_straggler([_rank(1, 10, 3), _rank(1, 12, 1)], 20) == (None, pytest.approx(2.0),
                                                                      None)
    assert find_straggler([_rank(1, 10, 0)], 0)[0] is None


@pytest.mark.points(2)
def test_busbw_follows_nccl_tests() -> None:
    assert bus_factor("all_reduce", 2) == 1.0
    assert bus_factor("all_reduce", 8) == pytest.approx(1.75)
    assert bus_factor("all_gather", 4) == pytest.approx(0.75)
    result = CommResult("all_reduce", 16 * 2**20, 8, 0.002)
    assert result.algbw_gbps == pytest.approx(16 * 2**20 / 0.002 / 1e9)
    assert result.busbw_gbps == pytest.approx(result.algbw_gbps * 1.75)


@pytest.mark.points(2)
def test_ring_model_and_projection() -> None:
    assert ring_allreduce_seconds(1e9, 1, 1e-5, 10) == 0.0
    # 2 ranks: 2 hops of latency + the whole buffer once over the bus
    assert ring_allreduce_seconds(1e9, 2, 1e-5, 10) == pytest.approx(2e-5 + 0.1)
    # bandwidth term tends to 2 S / B as N grows
    assert ring_allreduce_seconds(1e9, 1024, 0, 10) == pytest.approx(0.2, rel=1e-3)
    rows = project(0.1, 1e9, 0.0, 10, per_rank_batch=32, worlds=[1, 2, 512])
    assert rows[0]["efficiency"] == 1.0
    assert rows[1]["efficiency"] == pytest.approx(0.1 / 0.2, rel=1e-3)
    assert rows[2]["comm_share"] > rows[1]["comm_share"]


@pytest.mark.points(1)
@pytest.mark.hidden
def test_summary_efficiency_and_comm_share() -> None:
    points = [ScalePoint(1, "none", 1000.0, 10.0), ScalePoint(2, "none", 1600.0, 12.5),
              ScalePoint(2, "bf16", 1800.0, 11.1)]
    bench = [{"bytes": 1024, "world_size": 2, "time_us": 40.0, "busbw_gbps": 0.02},
             {"bytes": 2**24, "world_size": 2, "time_us": 8000.0, "busbw_gbps": 2.1}]
    doc = summarize(points, bench, grad_bytes=2**24, per_rank_batch=64, project_to=[1, 8])
    two = doc["measured"][1]
    assert two["speedup"] == 1.6 and two["efficiency"] == 0.8
    assert two["comm_share"] == pytest.approx(0.2)
    assert doc["measured"][2]["comm_share"] < two["comm_share"]
    assert doc["ring_fit"] == {"alpha_us": 20.0, "bus_gbps": 2.1}
    assert [p["world"] for p in doc["projection"]] == [1, 8]


@pytest.mark.points(1)
def test_verify_compares_every_tensor() -> None:
    import torch

    from disttrain.verify import max_abs_diff

    a = {"w": torch.zeros(3), "b": torch.ones(2)}
    assert max_abs_diff(a, {"w": torch.zeros(3), "b": torch.ones(2)}) == 0.0
    assert max_abs_diff(a, {"w": torch.zeros(3), "b": torch.tensor([1.0, 1.5])}) == 0.5
    assert max_abs_diff(a, {"w": torch.zeros(4), "b": torch.ones(2)}) == float("inf")
    assert max_abs_diff(a, {"w": torch.zeros(3)}) == float("inf")
