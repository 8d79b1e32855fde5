"""Iteration-level scheduling: which waiting sequences join the running batch at this step.

Pure bookkeeping (no torch), so the policy is unit-tested on its own. The rules, in the
spirit of vLLM's scheduler without preemption:
- at most `max_num_seqs` sequences run at once;
- the prompts prefilled in one step add up to at most `max_num_batched_tokens` (one prompt
  is always allowed so a long prompt cannot starve);
- a sequence is admitted only when its worst case (prompt + max_tokens) fits in the KV-cache
  capacity left, so a running sequence never has to be preempted;
- waiting sequences are served by priority (lower first), then arrival order.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class SchedulerLimits:
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_capacity_tokens: int


@dataclass(order=True)
class _Entry(Generic[T]):
    priority: int
    order: int
    prompt_tokens: int = field(compare=False)
    reserve_tokens: int = field(compare=False)
    item: T = field(compare=False)


class Scheduler(Generic[T]):
    """A priority queue of waiting items plus the reservations of the running ones."""

    def __init__(self, limits: SchedulerLimits) -> None:
        self.limits = limits
        self._waiting: list[_Entry[T]] = []
        self._counter = itertools.count()
        self._reserved: dict[int, int] = {}

    def add(self, item: T, prompt_tokens: int, max_tokens: int, priority: int = 0) -> None:
        heapq.heappush(self._waiting, _Entry(priority, next(self._counter), prompt_tokens,
                                             prompt_tokens + max_tokens, item))

    @property
    def num_waiting(self) -> int:
        return len(self._waiting)

    @property
    def num_running(self) -> int:
        return len(self._reserved)

    @property
    def reserved_tokens(self) -> int:
        return sum(self._reserved.values())

    def waiting_items(self) -> list[T]:
        return [entry.item for entry in self._waiting]

    def remove_waiting(self, item: T) -> bool:
        """Drop a waiting item (cancelled or timed out before it ran)."""
        for index, entry in enumerate(self._waiting):
            if entry.item is item:
                self._waiting.pop(index)
                heapq.heapify(self._waiting)
                return True
        return False

    def finish(self, item: T) -> None:
        """A running item is done: its slot and KV reservation become free."""
        self._reserved.pop(id(item), None)

    def admit(self) -> list[T]:
        """Pop the items that join the batch at this step, in priority order."""
        # BEGIN SOLUTION: admit by priority within slots, prefill token budget, KV capacity
        admitted: list[T] = []
        budget = self.limits.max_num_batched_tokens
        while self._waiting and self.num_running < self.limits.max_num_seqs:
            head = self._waiting[0]
            if admitted and head.prompt_tokens > budget:
                break
            if self.reserved_tokens + head.reserve_tokens > self.limits.kv_capacity_tokens:
                if self.num_running == 0:
                    # Alone it still does not fit: admit it anyway rather than wedge the queue
                    # (max_model_len validation keeps this bounded).
                    pass
                else:
                    break
            heapq.heappop(self._waiting)
            budget -= head.prompt_tokens
            self._reserved[id(head.item)] = head.reserve_tokens
            admitted.append(head.item)
        return admitted
        # END SOLUTION
