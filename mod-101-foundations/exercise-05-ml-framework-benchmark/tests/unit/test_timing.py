"""The timer measures known synthetic workloads (generous tolerances: correctness, not speed)."""

import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest

from mlbench.timing import time_step


@pytest.mark.points(3)
def test_sleep_workload_is_measured_about_right() -> None:
    samples = time_step(lambda: time.sleep(0.01), lambda _o: None, iterations=10)
    assert len(samples) == 10
    med = sorted(samples)[5]
    assert 0.0095 <= med <= 0.05  # sleep never returns early; a loaded box may add delay


@pytest.mark.points(4)
def test_warmup_runs_untimed_and_sync_is_inside_the_timed_region() -> None:
    calls = {"step": 0, "sync": 0}

    def step() -> Future[int]:
        """Asynchronous dispatch: returns at once, the work completes 20 ms later."""
        calls["step"] += 1
        fut: Future[int] = Future()
        threading.Timer(0.02, fut.set_result, args=(1,)).start()
        return fut

    def sync(out: Any) -> None:
        calls["sync"] += 1
        out.result()

    samples = time_step(step, sync, iterations=3, warmup=2)
    assert calls == {"step": 5, "sync": 5}
    assert len(samples) == 3
    assert min(samples) >= 0.019  # a timer that skipped sync would see ~0 ms


@pytest.mark.hidden
@pytest.mark.points(2)
def test_timer_without_sync_would_miss_async_work() -> None:
    """Negative control for the test above: dispatch alone takes far less than 20 ms."""
    def step() -> None:
        threading.Timer(0.02, lambda: None).start()

    samples = time_step(step, lambda _o: None, iterations=3)
    assert max(samples) < 0.019


@pytest.mark.points(1)
def test_bad_iteration_counts() -> None:
    with pytest.raises(ValueError):
        time_step(lambda: None, lambda _o: None, iterations=0)
    with pytest.raises(ValueError):
        time_step(lambda: None, lambda _o: None, iterations=1, warmup=-1)
