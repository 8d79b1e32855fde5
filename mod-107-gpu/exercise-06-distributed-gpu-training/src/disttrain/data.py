"""Sharding the data set over ranks, with an exact resume position.

`DistributedSampler` gives rank r the indices perm[r::world] of one seeded permutation per
epoch (`set_epoch`). Rank r's k-th batch of b samples is perm[(k*b + j)*world + r], so the
k-th *global* batch is the contiguous slice perm[k*b*world:(k+1)*b*world] whatever the world
size: that is why a distributed run can match a single process, and why a position saved as
"global samples consumed in this epoch" resumes exactly on another world size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from torch.utils.data import Dataset, DistributedSampler


@dataclass
class Position:
    """Where the data stream stands: the epoch and the global samples consumed in it."""

    epoch: int = 0
    offset: int = 0  # global samples (all ranks together) already consumed this epoch

    def as_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "offset": self.offset}


class ResumableSampler(DistributedSampler[int]):
    """`DistributedSampler` that can start part-way into an epoch (`start_at`)."""

    def __init__(self, dataset: Dataset[object], num_replicas: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True,
                         seed=seed, drop_last=True)
        self._skip = 0

    def start_at(self, global_offset: int) -> None:
        """Skip the first `global_offset` samples of the epoch (all ranks together)."""
        # BEGIN SOLUTION
        if global_offset % self.num_replicas:
            raise ValueError(f"offset {global_offset} is not a multiple of the world size "
                             f"{self.num_replicas}")
        self._skip = global_offset // self.num_replicas
        # END SOLUTION

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        skip, self._skip = self._skip, 0  # only the resumed epoch starts late
        return iter(indices[skip:])

    def __len__(self) -> int:
        return self.num_samples - self._skip


class BatchStream:
    """Endless per-rank micro-batches over epochs; `position` is exact at every step."""

    def __init__(self, dataset: Dataset[object], world_size: int, rank: int, batch: int,
                 seed: int, start: Position | None = None) -> None:
        self.dataset = dataset
        self.world = world_size
        self.batch = batch
        self.sampler = ResumableSampler(dataset, world_size, rank, seed)
        self.per_epoch = (self.sampler.num_samples // batch) * batch * world_size
        if self.per_epoch == 0:
            raise ValueError("the data set is smaller than one global micro-batch")
        self.position = start or Position()
        if self.position.offset >= self.per_epoch:
            self.position = Position(self.position.epoch + 1, 0)
        self._iter: Iterator[list[int]] | None = None

    def _open_epoch(self) -> Iterator[list[int]]:
        self.sampler.set_epoch(self.position.epoch)
        self.sampler.start_at(self.position.offset)
        indices = list(iter(self.sampler))
        usable = len(indices) - len(indices) % self.batch
        return iter([indices[i:i + self.batch] for i in range(0, usable, self.batch)])

    def next_indices(self) -> list[int]:
        """The next micro-batch's indices for this rank (advances `position`)."""
        if self.position.offset >= self.per_epoch:
            self.position = Position(self.position.epoch + 1, 0)
            self._iter = None
        if self._iter is None:
            self._iter = self._open_epoch()
        chunk = next(self._iter)
        self.position = Position(self.position.epoch,
                                 self.position.offset + self.batch * self.world)
        return chunk
