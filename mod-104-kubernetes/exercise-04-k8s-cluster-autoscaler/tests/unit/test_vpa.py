"""VPA recommender: bucket arithmetic, decay, p90 + 15 % margin, confidence, bounds."""

from __future__ import annotations

import math

import pytest

from autoscale.policies import vpa

DAY = 86400.0


def upper_edge(value: float, first: float, ratio: float = 1.05) -> float:
    """Hand formula: the bucket holding `value` ends at first * (ratio**(b+1) - 1)/(r - 1)."""
    bucket = int(math.log(value * (ratio - 1) / first + 1) / math.log(ratio))
    return first * (ratio ** (bucket + 1) - 1) / (ratio - 1)


@pytest.mark.points(1)
def test_exponential_buckets() -> None:
    scheme = vpa.CPU_BUCKETS
    assert scheme.bucket_start(0) == 0
    assert scheme.bucket_start(1) == pytest.approx(0.01)
    assert scheme.bucket_start(2) == pytest.approx(0.01 + 0.0105)
    assert scheme.find_bucket(0.005) == 0
    assert scheme.find_bucket(0.015) == 1
    assert scheme.find_bucket(1e9) == scheme.num_buckets - 1


@pytest.mark.points(3)
def test_constant_cpu_for_a_day() -> None:
    """0.5 cores every minute for a day: target = upper edge of 0.5's bucket * 1.15;
    confidence min(1439/1440 days, 1440/1440 samples)."""
    aggregate = vpa.ContainerAggregate()
    for minute in range(1440):
        aggregate.add_cpu(0.5, 0.5, minute * 60.0)
        aggregate.add_memory(600 * 1024**2, minute * 60.0)
    rec = vpa.recommend(aggregate)
    edge = upper_edge(0.5, 0.01)
    assert edge == pytest.approx(0.51113, abs=1e-4)
    assert rec.target.cpu == pytest.approx(edge * 1.15)
    confidence = 1439 / 1440
    assert rec.confidence == pytest.approx(confidence)
    assert rec.upper_bound.cpu == pytest.approx(edge * 1.15 * (1 + 1 / confidence))
    assert rec.lower_bound.cpu == pytest.approx(edge * 1.15 * (1 + 0.001 / confidence) ** -2)
    assert rec.target.memory == pytest.approx(upper_edge(600 * 1024**2, 1e7) * 1.15)


@pytest.mark.points(2)
def test_half_life_decay_weights_recent_samples() -> None:
    """10 samples of 1.0 core two days ago weigh 10 * 1; 10 of 0.2 now weigh 10 * 4.
    p80 of 50: the 0.2 bucket alone reaches 40 -> its edge; without decay it would not."""
    histogram = vpa.DecayingHistogram(vpa.CPU_BUCKETS, vpa.CPU_HALF_LIFE_S)
    for _ in range(10):
        histogram.add(1.0, 1.0, 0.0)
    for _ in range(10):
        histogram.add(0.2, 1.0, 2 * DAY)
    assert histogram.total == pytest.approx(50)
    assert histogram.percentile(0.8) == pytest.approx(upper_edge(0.2, 0.01))
    assert histogram.percentile(0.81) == pytest.approx(upper_edge(1.0, 0.01))


@pytest.mark.points(1)
def test_cpu_samples_weigh_their_request() -> None:
    aggregate = vpa.ContainerAggregate()
    aggregate.add_cpu(0.1, 4.0, 0.0)  # weight 4
    aggregate.add_cpu(2.0, 0.01, 0.0)  # weight max(0.01, 0.1) = 0.1
    assert aggregate.cpu.total == pytest.approx(4.1)
    assert aggregate.cpu.percentile(0.9) == pytest.approx(upper_edge(0.1, 0.01))


@pytest.mark.points(2)
@pytest.mark.hidden
def test_memory_uses_the_peak_of_each_interval() -> None:
    aggregate = vpa.ContainerAggregate()
    for t, size in ((0, 300e6), (3600, 800e6), (7200, 500e6)):
        aggregate.add_memory(size, t)
    assert aggregate.memory.total == pytest.approx(1.0)  # one peak for the interval
    assert aggregate.memory.percentile(0.5) == pytest.approx(upper_edge(800e6, 1e7))
    aggregate.add_memory(400e6, DAY + 10)  # the next interval gets its own peak
    assert aggregate.memory.total == pytest.approx(1.0 + 2.0)


@pytest.mark.points(2)
def test_bounds_floors_and_allowed_range() -> None:
    aggregate = vpa.ContainerAggregate()
    for minute in range(600):
        aggregate.add_cpu(0.005, 0.1, minute * 60.0)
        aggregate.add_memory(50e6, minute * 60.0)
    rec = vpa.recommend(aggregate)
    assert rec.target.cpu == vpa.POD_MIN_CPU  # 25 millicores at least
    assert rec.target.memory == vpa.POD_MIN_MEMORY  # 250 MiB at least
    policy = vpa.ContainerPolicy(min_allowed=vpa.Resources(0.2, 512 * 1024**2),
                                 max_allowed=vpa.Resources(0.3, 1024**3))
    capped = vpa.recommend(aggregate, policy)
    assert capped.target == vpa.Resources(0.2, 512 * 1024**2)
    assert capped.upper_bound.cpu <= 0.3
    assert vpa.recommend(vpa.ContainerAggregate()).upper_bound.cpu == vpa.POD_MIN_CPU
