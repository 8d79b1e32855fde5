"""`gpuopt batch-size`: the largest batch that trains, found with real out-of-memory errors.

Every probe runs full training steps (forward, backward, optimizer step: optimizer state
included) in a fresh process forked from a clean forkserver that has only imported torch:
* CPU: the child trains one step at batch 1 (imports, kernels, thread pools warmed), then
  caps its data segment with RLIMIT_DATA at (its usage at that point + budget); past it
  torch's allocator raises "DefaultCPUAllocator: can't allocate memory".
* CUDA: the child calls torch.cuda.set_per_process_memory_fraction(budget / card) to act
  as a smaller card and catches torch.cuda.OutOfMemoryError.
Search: doubling until a failure, then binary search between the last fit and the first
failure. Headroom: the search runs under (1 - headroom) x budget, so the answer keeps that
much memory spare (Lightning#21154: a search that lands on the limit OOMs later, #8028).
The answer is re-checked for K steps in another fresh process under the full budget.
Probes run at least 2 steps: step 1 creates the optimizer state (momentum, Adam moments)
only after the activations are freed, so only step 2 holds both. Measured here: the CNN
under 48 MiB trains 1 step at batch 23 and fails at step 2.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import multiprocessing as mp
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import resource
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from gpuopt.errors import UsageError

# torch's CPU allocator, glibc, C++ and CUDA wordings; oneDNN reports a failed scratchpad
# allocation as "could not create a primitive".
OOM_MARKERS = ("can't allocate memory", "out of memory", "cannot allocate memory",
               "bad_alloc", "CUDA out of memory", "could not create a primitive")


@dataclass(frozen=True)
class ProbeResult:
    batch: int
    fits: bool
    detail: str = ""


@dataclass
class SearchResult:
    workload: str
    device: str
    budget_bytes: int
    headroom: float
    max_fitting_under_search_budget: int
    first_failing: int | None
    answer: int
    verified: bool
    probes: list[ProbeResult] = field(default_factory=list)
    plan: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["probes"] = [asdict(p) for p in self.probes]
        return data


def _vm_data_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmData in /proc/self/status")


def _child(conn: Connection, workload: str, batch: int, budget: int, steps: int, device: str,
           threads: int) -> None:
    import torch

    from gpuopt.recipes import TrainSpec
    from gpuopt.trainer import Trainer
    from gpuopt.workloads import load_workload

    torch.set_num_threads(threads)
    try:
        wl = load_workload(workload, batch)
        if device.startswith("cuda"):
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, budget / total))
        else:
            # Warm up first (lazy imports, oneDNN kernels, thread pools) so the budget is
            # what the batch itself needs beyond a process that has trained at batch 1.
            Trainer(load_workload(workload, 1), TrainSpec(), device=device,
                    measure_activations=False).run(1)
            gc.collect()
            limit = _vm_data_bytes() + budget
            _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
            resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
        trainer = Trainer(wl, TrainSpec(), device=device, measure_activations=False)
        trainer.run(steps)
    except torch.cuda.OutOfMemoryError as exc:
        conn.send((False, f"torch.cuda.OutOfMemoryError: {str(exc).splitlines()[0]}"))
        return
    except (RuntimeError, MemoryError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, MemoryError) or any(m in message for m in OOM_MARKERS):
            conn.send((False, message[:200]))
            return
        conn.send((None, f"{type(exc).__name__}: {message[:200]}"))
        return
    conn.send((True, ""))


_CONTEXT: Any = None


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = mp.get_context("forkserver")
        # torch._dynamo: the optimizers import it lazily (seconds); load it once, in the server.
        _CONTEXT.set_forkserver_preload(["torch", "torch._dynamo", "torch.utils.data",
                                         "gpuopt.trainer", "gpuopt.workloads"])
        atexit.register(_stop_forkserver)
    return _CONTEXT


def _stop_forkserver() -> None:
    """Stop the probe forkserver and its resource tracker and wait for them, so nothing
    outlives `gpuopt batch-size`.

    CPython leaves the server to notice on its own that its parent has gone; with torch
    loaded its own shutdown then takes ~0.7 s here, so the CLI (or a test run) used to exit
    with the server still running. `ForkServer._stop` is the private call CPython's own
    tests use (`ResourceTracker._stop` likewise); without them the old behaviour stays.
    """
    # the forkserver first, then the resource tracker started alongside it (it too exits
    # only once it notices that its pipe closed)
    for module, name in ((mp.forkserver, "_forkserver"),
                         (mp.resource_tracker, "_resource_tracker")):
        stop = getattr(getattr(module, name, None), "_stop", None)
        if callable(stop):
            with contextlib.suppress(OSError, ChildProcessError):
                stop()


def probe(workload: str, batch: int, budget_bytes: int, *, steps: int = 2,
          device: str = "cpu", threads: int = 1, timeout_s: float = 300) -> ProbeResult:
    """Train `steps` steps at `batch` in a fresh process under `budget_bytes`."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, workload, batch, budget_bytes, steps,
                                               device, threads))
    process.start()
    child.close()
    result: tuple[bool | None, str] | None = None
    if parent.poll(timeout_s):
        try:
            result = parent.recv()
        except EOFError:
            result = None
    process.join(timeout=30)
    if process.is_alive():
        process.kill()
        process.join()
    if result is None:
        # killed without a word: the allocator could not even raise (e.g. thread stacks)
        return ProbeResult(batch, False, f"child exited with {process.exitcode}")
    fits, detail = result
    if fits is None:
        raise RuntimeError(f"probe at batch {batch} failed for another reason: {detail}")
    return ProbeResult(batch, fits, detail)


def plan_accumulation(target_global: int, max_micro: int, ranks: int = 1) -> dict[str, int]:
    """Micro-batch x accumulation steps (per rank) that make `target_global` exactly."""
    # BEGIN SOLUTION
    if target_global < 1 or ranks < 1:
        raise UsageError("target batch and ranks must be >= 1")
    if target_global % ranks:
        raise UsageError(f"target batch {target_global} does not split over {ranks} ranks")
    per_rank = target_global // ranks
    micro = max(d for d in range(1, min(per_rank, max_micro) + 1) if per_rank % d == 0)
    return {"global_batch": target_global, "ranks": ranks, "per_rank_batch": per_rank,
            "micro_batch": micro, "accumulation_steps": per_rank // micro}
    # END SOLUTION


def search(workload: str, budget_bytes: int, *, headroom: float = 0.1, start: int = 1,
           max_batch: int = 512, steps: int = 2, verify_steps: int = 5, device: str = "cpu",
           threads: int = 1, target_global: int | None = None, ranks: int = 1,
           on_probe: Callable[[ProbeResult], None] | None = None) -> SearchResult:
    """Doubling, then binary search, under (1 - headroom) x budget; then a fresh re-check."""
    if not 0 <= headroom < 1:
        raise UsageError("headroom must be in [0, 1)")
    if steps < 2:
        # the first step allocates the optimizer state after the activations are freed;
        # only from step 2 on do both live at once (a 1-step probe over-estimates)
        raise UsageError("probes need at least 2 training steps")
    if budget_bytes <= 0 or start < 1 or max_batch < start:
        raise UsageError("budget must be > 0 and 1 <= start <= max-batch")
    search_budget = int(budget_bytes * (1 - headroom))
    probes: list[ProbeResult] = []

    def run(batch: int) -> bool:
        result = probe(workload, batch, search_budget, steps=steps, device=device,
                       threads=threads)
        probes.append(result)
        if on_probe:
            on_probe(result)
        return result.fits

    # BEGIN SOLUTION
    fit, fail = 0, None
    batch = start
    while batch <= max_batch:
        if run(batch):
            fit = batch
            batch *= 2
        else:
            fail = batch
            break
    if fit == 0:
        raise UsageError(f"even batch {start} does not fit in "
                         f"{search_budget / 2**20:.0f} MiB; raise --budget-mb")
    if fail is None and fit < max_batch:
        if run(max_batch):
            fit = max_batch
        else:
            fail = max_batch
    if fail is not None:
        low, high = fit, fail  # low fits, high fails
        while high - low > 1:
            middle = (low + high) // 2
            if run(middle):
                low = middle
            else:
                high = middle
        fit, fail = low, high
    check = probe(workload, fit, budget_bytes, steps=verify_steps, device=device,
                  threads=threads)
    probes.append(check)
    # END SOLUTION
    plan = plan_accumulation(target_global, fit, ranks) if target_global else None
    return SearchResult(workload, device, budget_bytes, headroom, fit, fail, fit, check.fits,
                        probes, plan)
