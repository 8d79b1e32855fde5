"""MLPerf-style scenarios; the Server arrival process is checked statistically."""

import time

import numpy as np
import pytest
from scipy import stats

from mlbench.scenarios import offline, poisson_arrivals, server, single_stream


@pytest.mark.points(4)
def test_server_arrivals_are_poisson_ks_test() -> None:
    qps = 50.0
    arrivals = poisson_arrivals(qps, 2000, seed=42)
    gaps = np.diff(np.concatenate([[0.0], arrivals]))
    # Inter-arrival times of a Poisson process are exponential with mean 1/qps.
    result = stats.kstest(gaps, "expon", args=(0, 1 / qps))
    assert result.pvalue > 0.01
    assert gaps.mean() == pytest.approx(1 / qps, rel=0.08)
    # Counts in 1-second windows are Poisson: variance ~ mean (index of dispersion ~ 1).
    counts = np.bincount(arrivals.astype(int))[:-1]
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.35)


@pytest.mark.hidden
@pytest.mark.points(1)
def test_ks_test_rejects_non_poisson_arrivals() -> None:
    """Negative control: evenly spaced arrivals at the same rate fail the same test."""
    gaps = np.full(2000, 1 / 50.0) + np.random.default_rng(0).normal(0, 1e-4, 2000)
    assert stats.kstest(gaps, "expon", args=(0, 1 / 50.0)).pvalue < 1e-6


@pytest.mark.hidden
@pytest.mark.points(2)
def test_arrivals_validate_arguments_and_are_seeded() -> None:
    assert np.array_equal(poisson_arrivals(10, 5, seed=1), poisson_arrivals(10, 5, seed=1))
    assert not np.array_equal(poisson_arrivals(10, 5, seed=1), poisson_arrivals(10, 5, seed=2))
    with pytest.raises(ValueError):
        poisson_arrivals(0, 5)
    with pytest.raises(ValueError):
        poisson_arrivals(5, 0)


@pytest.mark.points(3)
def test_single_stream_and_offline_count_queries_and_samples() -> None:
    ss = single_stream(lambda: time.sleep(0.002), lambda _o: None, queries=5)
    assert ss.queries == 5 and len(ss.latencies) == 5 and min(ss.latencies) >= 0.0019
    off = offline(lambda: time.sleep(0.002), lambda _o: None, batches=4, batch_size=8)
    assert off.samples == 32
    assert off.throughput == pytest.approx(32 / off.wall_s)


@pytest.mark.points(4)
def test_underloaded_server_meets_target_and_issues_no_query_early() -> None:
    issued: list[float] = []
    t0 = time.perf_counter()

    def query() -> None:
        issued.append(time.perf_counter() - t0)
        time.sleep(0.001)

    res = server(query, lambda _o: None, queries=40, target_qps=100.0, latency_bound_s=0.25,
                 seed=3)
    due = poisson_arrivals(100.0, 40, seed=3)
    assert all(i >= d - 1e-4 for i, d in zip(issued, due, strict=True))
    assert min(res.latencies) >= 0.0009  # latency includes service time
    assert res.target_met is True
    assert res.achieved_qps == pytest.approx(40 / due[-1])


@pytest.mark.hidden
@pytest.mark.points(3)
def test_overloaded_server_misses_its_latency_bound() -> None:
    # Service takes 10 ms, queries arrive at 500/s: the queue grows without bound.
    res = server(lambda: time.sleep(0.01), lambda _o: None, queries=40, target_qps=500.0,
                 latency_bound_s=0.05, seed=1)
    assert res.target_met is False
    assert res.p99_s is not None and res.p99_s > 0.05
    assert res.latencies[-1] > res.latencies[0]  # queueing delay accumulates
