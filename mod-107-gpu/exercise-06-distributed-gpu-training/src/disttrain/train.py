"""The one training loop every strategy runs.

Per step: `accumulation_steps` micro-batches (gradient sync skipped on all but the last), a
control all_reduce after the last forward pass (global loss, the SIGTERM flag, and the
straggler detector's sync point), backward, optimizer and scheduler step, then a checkpoint
every `checkpoint_every` steps or when any rank got SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from disttrain import checkpoint as ckpt
from disttrain.config import TrainConfig
from disttrain.data import BatchStream, Position
from disttrain.model import build_dataset, build_model, fingerprint
from disttrain.runtime import DistContext
from disttrain.straggler import StepTimes, StragglerDetector
from disttrain.strategies import local_shards, skip_grad_sync, wrap

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced; `as_report()` is the JSON the CLI and the tests read."""

    name: str
    strategy: str
    world_size: int
    backend: str
    steps_done: int
    start_step: int
    losses: list[float]
    samples_per_s: float
    step_ms: float
    blocked_ms: float
    resumed_from: int | None
    restart_count: int
    stopped_by_signal: bool
    checkpoint_save_s: list[float]
    checkpoint_load_s: float | None
    first_step_at: float | None
    rank_checksums: list[float]
    ranks_agree: bool
    shards: list[dict[str, Any]]
    straggler_reports: list[dict[str, Any]]
    weights: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)

    def as_report(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "weights"}
        return out


class _StopFlag:
    """Set by SIGTERM (torchrun forwards it to every worker on shutdown)."""

    def __init__(self) -> None:
        self.raised = False
        self._previous: Any = None

    def install(self) -> None:
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        except ValueError:  # not the main thread (e.g. some Ray workers)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.raised = True

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _scheduler(optimizer: torch.optim.Optimizer,
               warmup: int) -> torch.optim.lr_scheduler.LRScheduler:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / (warmup + 1)))


def _maybe_kill(cfg: TrainConfig, ctx: DistContext, step: int) -> None:
    """Fault injection: SIGKILL rank `kill_rank` at `kill_at_step`, once per checkpoint dir."""
    if cfg.kill_at_step != step or ctx.rank != cfg.kill_rank:
        return
    marker = Path(cfg.checkpoint_dir or ".") / ".killed-once"
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"rank {ctx.rank} killed at step {step}\n")
    log.warning("fault injection: SIGKILL rank %d at step %d", ctx.rank, step)
    os.kill(os.getpid(), signal.SIGKILL)


def _delay(cfg: TrainConfig, ctx: DistContext, phase: str) -> None:
    delay = cfg.inject_delay
    if delay is None or delay.rank != ctx.rank or delay.phase != phase:
        return
    if cfg.straggler_action == "exit" and ctx.restart_count > 0:
        return  # the planted straggler is "replaced" by the restart
    time.sleep(delay.ms / 1000.0)


def _write_progress(name: str, step: int) -> None:
    target = os.environ.get("DISTTRAIN_PROGRESS")
    if not target:
        return
    tmp = Path(f"{target}.tmp")
    tmp.write_text(f'{{"name": "{name}", "step": {step}}}')  # no fsync: a hint, not data
    tmp.replace(target)


def full_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The full fp32 state dict on every rank (gathers FSDP shards)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
    return {k: v.detach().float().cpu().clone() for k, v in state.items()
            if isinstance(v, torch.Tensor)}


def train(cfg: TrainConfig, ctx: DistContext, resume_from: Path | None = None,
          on_checkpoint: Callable[[int, Path, float], None] | None = None) -> RunResult:
    """Run `cfg` on this rank; every rank of the group calls it with the same config.

    `resume_from` names one checkpoint directory to start from (Ray hands its restored
    checkpoint over this way); otherwise the newest complete one in `checkpoint_dir` is used.
    `on_checkpoint(step, path, loss)` runs on every rank after each complete checkpoint.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    per_rank = cfg.per_rank_batch(ctx.world_size)
    dataset = build_dataset(cfg.samples, cfg.in_features, cfg.seed)
    base = build_model(cfg.in_features, cfg.hidden, cfg.blocks, cfg.seed)
    print_ = fingerprint(base)
    model = wrap(base, cfg, ctx)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    scheduler = _scheduler(optimizer, cfg.warmup_steps)
    fmt = "dcp" if cfg.strategy == "fsdp" else "torch"

    start_step, position, resumed_from, load_s = 0, Position(), None, None
    ckpt_dir = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else None
    found: ckpt.Found | None = None
    if resume_from is not None:
        meta = ckpt.is_complete(resume_from)
        found = ckpt.Found(resume_from, meta) if meta is not None else None
    elif ckpt_dir is not None and cfg.resume:
        found = ckpt.find_latest(ckpt_dir)
    if found is not None:
        t0 = time.perf_counter()
        state = ckpt.load(found, model=model, optimizer=optimizer, scheduler=scheduler,
                          fingerprint=print_)
        load_s = time.perf_counter() - t0
        start_step = resumed_from = state["step"]
        position = Position(**state["position"])
        if ctx.is_main:
            log.warning("resumed from %s (step %d)", found.path, start_step)

    stream = BatchStream(dataset, ctx.world_size, ctx.rank, per_rank, cfg.seed, position)
    detector = StragglerDetector(ctx.rank, ctx.world_size, cfg.straggler_window,
                                 cfg.straggler_threshold_ms, cfg.straggler_action,
                                 ckpt_dir.parent if ckpt_dir else None, ctx.device)
    stop = _StopFlag()
    stop.install()
    losses: list[float] = []
    saves: list[float] = []
    blocked: list[float] = []
    step_times: list[float] = []
    first_step_at: float | None = None
    x_all, y_all = dataset.tensors
    step = start_step
    try:
        while step < cfg.steps:
            _maybe_kill(cfg, ctx, step)
            t_step = time.perf_counter()
            times = StepTimes()
            t4 = t_step
            local_loss = 0.0
            for micro in range(cfg.accumulation_steps):
                last = micro == cfg.accumulation_steps - 1
                t0 = time.perf_counter()
                _delay(cfg, ctx, "data")
                idx = torch.tensor(stream.next_indices())
                x, y = x_all[idx].to(ctx.device), y_all[idx].to(ctx.device)
                t1 = time.perf_counter()
                times.data_ms += (t1 - t0) * 1000
                with skip_grad_sync(model, skip=not last):
                    if last:
                        _delay(cfg, ctx, "compute")
                    pred = model(x).float()[:, 0]
                    loss = nn.functional.mse_loss(pred, y) / cfg.accumulation_steps
                    local_loss += float(loss.detach())
                    if last:
                        t2 = time.perf_counter()
                        times.pre_ms += (t2 - t1) * 1000
                        control = torch.tensor([local_loss, float(stop.raised)],
                                               device=ctx.device)
                        t3 = time.perf_counter()
                        if ctx.distributed:
                            dist.all_reduce(control)
                        times.blocked_ms = (time.perf_counter() - t3) * 1000
                        t4 = time.perf_counter()
                        loss.backward()  # type: ignore[no-untyped-call]
                    else:
                        loss.backward()  # type: ignore[no-untyped-call]
                        times.pre_ms += (time.perf_counter() - t1) * 1000
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            times.post_ms = (time.perf_counter() - t4) * 1000
            step += 1
            if first_step_at is None:
                first_step_at = time.time()
            losses.append(float(control[0]) / ctx.world_size)
            blocked.append(times.blocked_ms)
            step_times.append(time.perf_counter() - t_step)
            if ctx.is_main and step % 5 == 0:
                _write_progress(cfg.name, step)
            if cfg.straggler and ctx.distributed:
                detector.record(step, times)
            stopping = bool(control[1] > 0)
            due = cfg.checkpoint_every and step % cfg.checkpoint_every == 0
            if ckpt_dir is not None and (due or stopping or step == cfg.steps):
                saves.append(ckpt.save(ckpt_dir, step=step, model=model, optimizer=optimizer,
                                       scheduler=scheduler, position=stream.position.as_dict(),
                                       fingerprint=print_, fmt=fmt, keep_last=cfg.keep_last))
                if on_checkpoint is not None:
                    on_checkpoint(step, ckpt_dir / ckpt.step_name(step), losses[-1])
            if stopping:
                log.warning("SIGTERM: checkpointed step %d, stopping", step)
                break
    finally:
        stop.restore()

    shards = local_shards(model)
    weights = full_weights(model)
    flat = torch.cat([w.reshape(-1) for w in weights.values()])
    checksum = float(flat.double().sum())
    checksums = [checksum]
    agree = True
    if ctx.distributed:
        from disttrain.strategies import all_equal

        gathered: list[Any] = [None] * ctx.world_size
        dist.all_gather_object(gathered, {"checksum": checksum, "shards": shards})
        checksums = [g["checksum"] for g in gathered]
        all_shards = [g["shards"] for g in gathered]
        agree = all_equal(flat.to(ctx.device))
    else:
        all_shards = [shards]
    timed = step_times[1:] or step_times  # the first step warms up allocators and buckets
    step_s = sum(timed) / max(len(timed), 1)
    return RunResult(
        name=cfg.name, strategy=cfg.strategy, world_size=ctx.world_size, backend=ctx.backend,
        steps_done=step, start_step=start_step, losses=losses,
        samples_per_s=cfg.global_batch / step_s if step_s else 0.0,
        step_ms=step_s * 1000, blocked_ms=sum(blocked[1:]) / max(len(blocked) - 1, 1),
        resumed_from=resumed_from, restart_count=ctx.restart_count,
        stopped_by_signal=stop.raised, checkpoint_save_s=saves, checkpoint_load_s=load_s,
        first_step_at=first_step_at, rank_checksums=checksums, ranks_agree=agree,
        shards=all_shards, straggler_reports=[r.as_dict() for r in detector.reports],
        weights=weights)
