"""The process group: who am I, which backend, and a store that survives restarts.

torchrun (TorchElastic) hosts a TCPStore in its agent and passes MASTER_ADDR/MASTER_PORT,
RANK, WORLD_SIZE, LOCAL_RANK and TORCHELASTIC_RESTART_COUNT to every worker. After a restart
the agent's store still holds the keys the previous attempt wrote; a plain
`init_process_group("gloo")` can then read the old attempt's addresses (connection refused,
or a hang until the 30-minute default timeout). So each attempt builds its group on a
`PrefixStore` named after the restart count, with a short timeout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

PG_TIMEOUT = timedelta(seconds=int(os.environ.get("DISTTRAIN_PG_TIMEOUT_S", "60")))


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    restart_count: int
    backend: str  # "gloo", "nccl" or "none" (single process)
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.backend != "none"


def pick_device(requested: str, local_rank: int) -> torch.device:
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        from disttrain.errors import UnavailableError

        raise UnavailableError("device=cuda asked for, but CUDA is not available here")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def attempt_prefix(restart_count: int) -> str:
    """The store namespace of one attempt: keys of earlier attempts are never read."""
    # BEGIN SOLUTION
    return f"disttrain/attempt-{restart_count}/"
    # END SOLUTION


def init_distributed(device: str = "auto", timeout: timedelta = PG_TIMEOUT) -> DistContext:
    """Join the process group torchrun set up (or run as one process when there is none)."""
    if dist.is_available() and dist.is_initialized():  # Ray Train built it already
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", "0"))
        return DistContext(rank, world, local, int(os.environ.get("TORCHELASTIC_RESTART_COUNT",
                                                                  "0")),
                           str(dist.get_backend()), pick_device(device, local))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    dev = pick_device(device, local)
    if world == 1 and "MASTER_ADDR" not in os.environ:
        return DistContext(0, 1, 0, restart, "none", dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    # BEGIN SOLUTION
    host = os.environ.get("MASTER_ADDR", "127.0.0.1")
    port = int(os.environ["MASTER_PORT"])
    agent_store = os.environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true"
    store = dist.TCPStore(  # type: ignore[attr-defined]
        host, port, world_size=None if agent_store else world,
        is_master=(rank == 0 and not agent_store), timeout=timeout, wait_for_workers=False)
    prefixed = dist.PrefixStore(  # type: ignore[attr-defined]
        attempt_prefix(restart), store)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    dist.init_process_group(backend, store=prefixed, rank=rank, world_size=world,
                            timeout=timeout)
    # END SOLUTION
    return DistContext(rank, world, local, restart, backend, dev)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
