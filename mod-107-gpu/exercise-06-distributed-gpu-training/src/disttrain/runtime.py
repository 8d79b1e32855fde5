"""The process group: who am I, which backend, and a store no earlier attempt wrote to.

torchrun (TorchElastic) passes MASTER_ADDR/MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK and
TORCHELASTIC_RESTART_COUNT to every worker. By default (torch >= 2.5) MASTER_PORT is a
TCPStore the rank-0 agent hosts for the whole job, so after a restart it still holds the keys
(peer addresses) of the previous attempt. A prefix named after TORCHELASTIC_RESTART_COUNT does
not isolate attempts across nodes: each agent counts only its own failures (a restart caused by
another node's failure is a "membership change" and is not counted, pytorch#135712), so two
nodes can build one group under two prefixes and wait for each other until the timeout.
`disttrain launch` therefore sets TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1: every rendezvous
round gets a fresh port from the agents, rank 0 hosts a fresh store there, and no earlier
key can be read. Under an agent-hosted store (plain torchrun) the restart-count prefix is
kept; it is exact with one node only.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)
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
    """The store namespace of one attempt on an agent-hosted store (exact with one node)."""
    # BEGIN SOLUTION
    return f"disttrain/attempt-{restart_count}/"
    # END SOLUTION


def store_prefix(agent_store: bool, restart_count: int) -> str:
    """Where this attempt's group keys live.

    A store of our own (rank 0 hosts it, fresh every rendezvous round) holds no earlier keys,
    so every rank uses one fixed namespace; ranks of different nodes may carry different
    restart counts and must not depend on them. On the agent's job-long store the restart
    count is the only per-attempt name there is."""
    # BEGIN SOLUTION
    return attempt_prefix(restart_count) if agent_store else "disttrain/"
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
    if agent_store and int(os.environ.get("GROUP_WORLD_SIZE", "1")) > 1:
        log.warning("the agent's shared store with several nodes: restart counts differ per "
                    "node after a failure; set TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 "
                    "(disttrain launch does)")
    prefixed = dist.PrefixStore(  # type: ignore[attr-defined]
        store_prefix(agent_store, restart), store)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    dist.init_process_group(backend, store=prefixed, rank=rank, world_size=world,
                            timeout=timeout)
    # END SOLUTION
    return DistContext(rank, world, local, restart, backend, dev)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
