"""The VerticalPodAutoscaler recommender (v1.2), transcribed from upstream.

Sources: kubernetes/autoscaler vertical-pod-autoscaler/pkg/recommender/util/histogram.go,
decaying_histogram.go, model/aggregate_container_state.go, logic/recommender.go and
logic/estimator.go.

* CPU: every usage sample goes into an exponential-bucket histogram (first bucket 0.01 cores,
  ratio 1.05) whose weights decay with a 24 h half-life; a sample weighs its pod's CPU
  request (at least 0.1), so raising the request quickly outweighs old history.
* Memory: one sample per 24 h aggregation interval, that interval's *peak* (first bucket
  10 MB), also decaying with a 24 h half-life.
* target = p90 (CPU and memory peaks) + 15 % margin; lower bound p50, upper bound p95, each
  with the margin and scaled by the confidence `min(days of history, samples / 1440)`:
  upper `* (1 + 1/confidence)`, lower `* (1 + 0.001/confidence) ** -2`.
* at least 25 millicores and 250 MiB, then the policy's minAllowed / maxAllowed.

A percentile is the *upper* edge of the bucket it falls in, as upstream returns it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from autoscale.errors import PolicyError

CPU_HALF_LIFE_S = 24 * 3600.0
MEMORY_HALF_LIFE_S = 24 * 3600.0
MEMORY_AGGREGATION_INTERVAL_S = 24 * 3600.0
SAFETY_MARGIN = 0.15
MIN_SAMPLE_WEIGHT = 0.1
POD_MIN_CPU = 0.025  # cores
POD_MIN_MEMORY = 250 * 1024 * 1024  # bytes
_MAX_DECAY_EXPONENT = 100


@dataclass(frozen=True)
class BucketScheme:
    """Exponential buckets: bucket n starts at first * (ratio**n - 1) / (ratio - 1)."""

    max_value: float
    first_bucket: float
    ratio: float = 1.05

    @property
    def num_buckets(self) -> int:
        return math.ceil(math.log(self.max_value * (self.ratio - 1) / self.first_bucket
                                      + 1, self.ratio)) + 1

    def bucket_start(self, bucket: int) -> float:
        return self.first_bucket * (self.ratio ** bucket - 1) / (self.ratio - 1)

    def find_bucket(self, value: float) -> int:
        if value < self.first_bucket:
            return 0
        bucket = int(math.log(value * (self.ratio - 1) / self.first_bucket + 1, self.ratio))
        return min(bucket, self.num_buckets - 1)


CPU_BUCKETS = BucketScheme(max_value=1000.0, first_bucket=0.01)
MEMORY_BUCKETS = BucketScheme(max_value=1e12, first_bucket=1e7)


@dataclass
class DecayingHistogram:
    """Weights multiplied by 2**((t - reference) / half_life): newer samples count more."""

    scheme: BucketScheme
    half_life: float
    weights: dict[int, float] = field(default_factory=dict)
    reference: float | None = None

    def add(self, value: float, weight: float, timestamp: float) -> None:
        # BEGIN SOLUTION
        if self.reference is None:
            self.reference = timestamp
        exponent = (timestamp - self.reference) / self.half_life
        if exponent > _MAX_DECAY_EXPONENT:  # move the reference forward to avoid overflow
            shift = 2.0 ** -exponent
            self.weights = {k: v * shift for k, v in self.weights.items()}
            self.reference = timestamp
            exponent = 0.0
        bucket = self.scheme.find_bucket(value)
        self.weights[bucket] = self.weights.get(bucket, 0.0) + weight * 2.0 ** exponent
        # END SOLUTION

    def subtract(self, value: float, weight: float, timestamp: float) -> None:
        if self.reference is None:
            return
        bucket = self.scheme.find_bucket(value)
        decayed = weight * 2.0 ** ((timestamp - self.reference) / self.half_life)
        self.weights[bucket] = max(self.weights.get(bucket, 0.0) - decayed, 0.0)

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def percentile(self, p: float) -> float:
        """The upper edge of the bucket where the cumulative weight reaches p * total."""
        # BEGIN SOLUTION
        total = self.total
        if total <= 0:
            return 0.0
        threshold = p * total
        partial = 0.0
        bucket = 0
        for bucket in sorted(k for k, v in self.weights.items() if v > 0):
            partial += self.weights[bucket]
            if partial >= threshold:
                break
        if bucket < self.scheme.num_buckets - 1:
            return self.scheme.bucket_start(bucket + 1)
        return self.scheme.bucket_start(bucket)
        # END SOLUTION


@dataclass(frozen=True)
class Resources:
    cpu: float  # cores
    memory: float  # bytes


@dataclass(frozen=True)
class Recommendation:
    target: Resources
    lower_bound: Resources
    upper_bound: Resources
    uncapped_target: Resources
    confidence: float


@dataclass
class ContainerAggregate:
    """aggregate_container_state: CPU histogram, memory-peaks histogram, sample bookkeeping."""

    cpu: DecayingHistogram = field(
        default_factory=lambda: DecayingHistogram(CPU_BUCKETS, CPU_HALF_LIFE_S))
    memory: DecayingHistogram = field(
        default_factory=lambda: DecayingHistogram(MEMORY_BUCKETS, MEMORY_HALF_LIFE_S))
    first_sample: float | None = None
    last_sample: float | None = None
    samples: int = 0
    _peak_window: float | None = None
    _peak: float = 0.0

    def add_cpu(self, usage_cores: float, request_cores: float, timestamp: float) -> None:
        if usage_cores < 0 or math.isnan(usage_cores):
            raise ValueError(f"CPU usage must be >= 0 (got {usage_cores})")
        self.cpu.add(usage_cores, max(request_cores, MIN_SAMPLE_WEIGHT), timestamp)
        self._seen(timestamp)

    def add_memory(self, usage_bytes: float, timestamp: float) -> None:
        """Only each interval's peak counts: a higher sample replaces the interval's peak."""
        # BEGIN SOLUTION
        if usage_bytes < 0 or math.isnan(usage_bytes):
            raise ValueError(f"memory usage must be >= 0 (got {usage_bytes})")
        window = math.floor(timestamp / MEMORY_AGGREGATION_INTERVAL_S) \
            * MEMORY_AGGREGATION_INTERVAL_S
        if self._peak_window != window:
            self._peak_window, self._peak = window, usage_bytes
            self.memory.add(usage_bytes, 1.0, window)
        elif usage_bytes > self._peak:
            self.memory.subtract(self._peak, 1.0, window)
            self._peak = usage_bytes
            self.memory.add(usage_bytes, 1.0, window)
        # END SOLUTION

    def _seen(self, timestamp: float) -> None:
        self.samples += 1
        self.first_sample = timestamp if self.first_sample is None \
            else min(self.first_sample, timestamp)
        self.last_sample = timestamp if self.last_sample is None \
            else max(self.last_sample, timestamp)

    @property
    def confidence(self) -> float:
        if self.first_sample is None or self.last_sample is None:
            return 0.0
        days = (self.last_sample - self.first_sample) / 86400
        return min(days, self.samples / (60 * 24))


@dataclass(frozen=True)
class ContainerPolicy:
    min_allowed: Resources | None = None
    max_allowed: Resources | None = None

    def __post_init__(self) -> None:
        low, high = self.min_allowed, self.max_allowed
        if low and high and (low.cpu > high.cpu or low.memory > high.memory):
            raise PolicyError("VPA minAllowed is above maxAllowed")


def _cap(value: Resources, policy: ContainerPolicy) -> Resources:
    cpu, memory = value.cpu, value.memory
    if policy.min_allowed:
        cpu, memory = max(cpu, policy.min_allowed.cpu), max(memory, policy.min_allowed.memory)
    if policy.max_allowed:
        cpu, memory = min(cpu, policy.max_allowed.cpu), min(memory, policy.max_allowed.memory)
    return Resources(cpu, memory)


def recommend(aggregate: ContainerAggregate, policy: ContainerPolicy | None = None
              ) -> Recommendation:
    """Target, bounds and confidence for one container, as the recommender computes them."""
    policy = policy or ContainerPolicy()
    # BEGIN SOLUTION
    margin = 1 + SAFETY_MARGIN

    def estimate(cpu_p: float, mem_p: float) -> Resources:
        return Resources(aggregate.cpu.percentile(cpu_p) * margin,
                         aggregate.memory.percentile(mem_p) * margin)

    target = estimate(0.9, 0.9)
    lower = estimate(0.5, 0.5)
    upper = estimate(0.95, 0.95)
    confidence = aggregate.confidence
    if confidence > 0:
        up = (1 + 1.0 / confidence) ** 1.0
        down = (1 + 0.001 / confidence) ** -2.0
    else:  # no history: upstream's multiplier is +inf for upper, 0 for lower
        up, down = math.inf, 0.0
    def scaled(r: Resources, factor: float) -> Resources:  # 0 * inf stays 0 (no history)
        return Resources(r.cpu * factor if r.cpu else 0.0,
                         r.memory * factor if r.memory else 0.0)

    upper, lower = scaled(upper, up), scaled(lower, down)

    def floor(r: Resources) -> Resources:
        return Resources(max(r.cpu, POD_MIN_CPU), max(r.memory, POD_MIN_MEMORY))

    target, lower, upper = floor(target), floor(lower), floor(upper)
    return Recommendation(target=_cap(target, policy), lower_bound=_cap(lower, policy),
                          upper_bound=_cap(upper, policy), uncapped_target=target,
                          confidence=confidence)
    # END SOLUTION


def recommend_from_series(cpu: Mapping[float, float], memory: Mapping[float, float],
                          request_cores: float, policy: ContainerPolicy | None = None
                          ) -> Recommendation:
    """Convenience: feed {timestamp: value} series (cores, bytes) and recommend."""
    aggregate = ContainerAggregate()
    for t in sorted(cpu):
        aggregate.add_cpu(cpu[t], request_cores, t)
    for t in sorted(memory):
        aggregate.add_memory(memory[t], t)
    return recommend(aggregate, policy)
