"""Checkpoints that survive a killed worker: atomic, complete or ignored, last K kept.

Layout of a checkpoint directory::

    step-00000020/      a complete checkpoint (has meta.json, written last)
    .step-00000030.tmp/ one being written (never read)
    latest              "step-00000020": moved only after a complete write

* `torch` format (single, DDP, Ray): rank 0 writes `state.pt` with the full model and optimizer
  state dicts; every rank's RNG state is gathered into it.
* `dcp` format (FSDP): every rank writes its shards with `torch.distributed.checkpoint`
  (`.metadata` + `__R_0.distcp`); rank 0 adds `extra.pt`. DCP reshards on load, so a 2-rank
  checkpoint loads into 1 process (or 4).

Both hold model, optimizer, scheduler, RNG states, the sampler position and the step. A
directory whose `meta.json` is missing, unreadable or lists a file that is not there (or not
of the recorded size) is partial: loading skips it for the previous one.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from aiinfra_shared.io import atomic_write_json, atomic_write_text
from torch import nn

from disttrain.errors import CheckpointError

log = logging.getLogger(__name__)
META = "meta.json"
LATEST = "latest"


@dataclass(frozen=True)
class Found:
    path: Path
    meta: dict[str, Any]

    @property
    def step(self) -> int:
        return int(self.meta["step"])


def step_name(step: int) -> str:
    return f"step-{step:08d}"


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.random.get_rng_state(), "python": random.getstate(),
                             "numpy": np.random.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.random.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _barrier() -> None:
    if _distributed():
        dist.barrier()


def _gather_rng() -> list[dict[str, Any]]:
    mine = rng_state()
    if not _distributed():
        return [mine]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, mine)
    return out


def is_complete(path: Path) -> dict[str, Any] | None:
    """The metadata of a complete checkpoint directory, else None (partial or foreign)."""
    # BEGIN SOLUTION
    try:
        meta = json.loads((path / META).read_text())
        files = meta["files"]
        int(meta["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for name, size in files.items():
        file = path / name
        if not file.is_file() or file.stat().st_size != size:
            return None
    return dict(meta)
    # END SOLUTION


def find_latest(directory: Path) -> Found | None:
    """The newest complete checkpoint: `latest` if it is complete, else scan step dirs."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    candidates: list[Path] = []
    pointer = directory / LATEST
    if pointer.is_file():
        candidates.append(directory / pointer.read_text().strip())
    candidates += sorted((p for p in directory.glob("step-*") if p.is_dir()), reverse=True)
    for path in candidates:
        meta = is_complete(path)
        if meta is not None:
            return Found(path, meta)
        if path.exists():
            log.warning("skipping partial checkpoint %s (incomplete metadata)", path.name)
    return None


def save(directory: Path, *, step: int, model: nn.Module, optimizer: torch.optim.Optimizer,
         scheduler: Any, position: dict[str, int], fingerprint: str, fmt: str,
         keep_last: int, extra: dict[str, Any] | None = None) -> float:
    """Write a checkpoint of `step` collectively (every rank calls it); returns seconds."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

    start = time.perf_counter()
    directory = Path(directory)
    final = directory / step_name(step)
    tmp = directory / f".{step_name(step)}.tmp"
    rank = dist.get_rank() if _distributed() else 0
    rngs = _gather_rng()
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    _barrier()
    common = {"step": step, "scheduler": scheduler.state_dict(), "position": position,
              "rng": rngs, "extra": extra or {}}
    # BEGIN SOLUTION
    if fmt == "dcp":
        import torch.distributed.checkpoint as dcp

        msd, osd = get_state_dict(model, optimizer)
        dcp.save({"model": msd, "optim": osd},  # type: ignore[attr-defined]
                 checkpoint_id=str(tmp))
        if rank == 0:
            torch.save(common, tmp / "extra.pt")
    else:
        opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
        msd, osd = get_state_dict(model, optimizer, options=opts)
        if rank == 0:
            torch.save({"model": msd, "optim": osd, **common}, tmp / "state.pt")
    _barrier()
    if rank == 0:
        files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
        world = dist.get_world_size() if _distributed() else 1
        atomic_write_json(tmp / META, {"step": step, "format": fmt, "world_size": world,
                                       "fingerprint": fingerprint, "files": files,
                                       "created": time.time()})
        shutil.rmtree(final, ignore_errors=True)
        tmp.replace(final)
        atomic_write_text(directory / LATEST, final.name + "\n")
        prune(directory, keep_last)
    _barrier()
    # END SOLUTION
    return time.perf_counter() - start


def prune(directory: Path, keep_last: int) -> list[str]:
    """Delete all but the newest `keep_last` complete checkpoints (and stale temp dirs)."""
    complete = sorted(p for p in directory.glob("step-*") if p.is_dir() and is_complete(p))
    removed = []
    for path in complete[:-keep_last]:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


def load(found: Found, *, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
         fingerprint: str) -> dict[str, Any]:
    """Restore `found` into model/optimizer/scheduler/RNG; returns step, position, extra."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_state_dict,
        set_state_dict,
    )

    if found.meta.get("fingerprint") != fingerprint:
        raise CheckpointError(f"checkpoint {found.path} is of another model (fingerprint "
                              f"{found.meta.get('fingerprint')}, this model {fingerprint}); "
                              "point --checkpoint-dir elsewhere or delete it")
    # BEGIN SOLUTION
    if found.meta["format"] == "dcp":
        import torch.distributed.checkpoint as dcp

        msd, osd = get_state_dict(model, optimizer)
        dcp.load({"model": msd, "optim": osd},  # type: ignore[attr-defined]
                 checkpoint_id=str(found.path))  # loads in place, resharding
        set_state_dict(model, optimizer, model_state_dict=msd, optim_state_dict=osd)
        common = torch.load(found.path / "extra.pt", weights_only=False)
    else:
        common = torch.load(found.path / "state.pt", weights_only=False, map_location="cpu")
        set_state_dict(model, optimizer, model_state_dict=common["model"],
                       optim_state_dict=common["optim"],
                       options=StateDictOptions(full_state_dict=True))
    scheduler.load_state_dict(common["scheduler"])
    rank = dist.get_rank() if _distributed() else 0
    rngs = common["rng"]
    if rank < len(rngs):
        set_rng_state(rngs[rank])
    # END SOLUTION
    return {"step": int(common["step"]), "position": dict(common["position"]),
            "extra": common.get("extra", {})}


def full_model_state(directory: Path) -> dict[str, torch.Tensor]:
    """The full model state dict of a checkpoint dir (either format), in this one process."""
    found = Path(directory)
    meta = is_complete(found)
    if meta is None:
        raise CheckpointError(f"{found}: not a complete checkpoint")
    if meta["format"] == "torch":
        state = torch.load(found / "state.pt", weights_only=False, map_location="cpu")
        return dict(state["model"])
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    out = found.parent / f".{found.name}.full.pt"
    dcp_to_torch_save(str(found), str(out))
    try:
        full = torch.load(out, weights_only=False)
    finally:
        out.unlink(missing_ok=True)
    return dict(full["model"])
