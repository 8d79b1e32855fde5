"""`disttrain launch`: torchrun (TorchElastic) around the worker, one or two "nodes".

One node: `torchrun --nnodes MIN:MAX --nproc-per-node N --rdzv-backend c10d
--rdzv-endpoint HOST:PORT --max-restarts R --log-dir D --redirects 3 -m disttrain.worker`.
With `nodes=2`, two torchrun launchers run on loopback with the same rendezvous id, each a
"node" of `nproc` workers; node 0 hosts the c10d store (`--rdzv-conf is_host=true`), node 1
joins it (`is_host=false`), as two machines would. Each attempt's per-rank stdout/stderr land
under `log_dir/<run id>/attempt_<n>/<local rank>/`.

`TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1`: every rendezvous round gets a fresh store (see
`runtime`): the agent-hosted job-long store plus per-node restart counts let two nodes build
one group under two namespaces after a failure. The launcher never waits on a node forever:
with fixed membership a failed node stops the others, a node still running `node_grace_s`
after another one exited is stopped, and the launchers die with this process
(`PR_SET_PDEATHSIG`), so a killed CLI leaves no torchrun behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from disttrain.config import TrainConfig
from disttrain.errors import ConfigurationError, PortInUseError


@dataclass
class LaunchSpec:
    nproc: int = 2
    nodes: int = 1
    nnodes: str | None = None  # "MIN:MAX" for elastic membership; default: nodes
    host: str = "127.0.0.1"
    port: int = 29400
    max_restarts: int = 3
    out: Path = Path("build/runs/latest")
    threads: int | None = 1
    monitor_interval: float = 0.5
    node_grace_s: float = 60.0  # how long the other nodes may run after one has exited
    env: dict[str, str] = field(default_factory=dict)

    @property
    def world_size(self) -> int:
        return self.nproc * self.nodes


@dataclass
class LaunchResult:
    returncode: int
    seconds: float
    out: Path
    reports: dict[str, dict[str, Any]]
    logs: list[Path]
    stderr_tail: str
    error: str = ""  # the launcher's own one-line reason when it stopped a node


def check_port_free(host: str, port: int) -> None:
    """Fail early, in one line, when something already listens on the rendezvous port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUseError(f"rendezvous port {host}:{port} is in use ({exc.strerror}); "
                                 "pick another with --port or DISTTRAIN_RDZV_PORT") from exc


def torchrun_command(spec: LaunchSpec, node_rank: int, run_id: str, plan: Path) -> list[str]:
    """The torchrun command line of one node (`python -m torch.distributed.run ...`)."""
    # BEGIN SOLUTION
    nnodes = spec.nnodes or str(spec.nodes)
    cmd = [sys.executable, "-m", "torch.distributed.run",
           f"--nnodes={nnodes}", f"--nproc-per-node={spec.nproc}",
           "--rdzv-backend=c10d", f"--rdzv-endpoint={spec.host}:{spec.port}",
           f"--rdzv-id={run_id}", f"--max-restarts={spec.max_restarts}",
           f"--monitor-interval={spec.monitor_interval}",
           f"--log-dir={spec.out / 'logs' / f'node{node_rank}'}", "--redirects=3",
           f"--local-addr={spec.host}"]
    if spec.nodes > 1:
        cmd.append(f"--rdzv-conf=is_host={'true' if node_rank == 0 else 'false'}")
    cmd += ["-m", "disttrain.worker", "--plan", str(plan), "--out", str(spec.out)]
    return cmd
    # END SOLUTION


def _validate(spec: LaunchSpec, configs: list[TrainConfig]) -> None:
    if spec.nproc < 1 or spec.nodes < 1:
        raise ConfigurationError("--nproc and --nodes must be >= 1")
    if spec.nnodes is not None:
        low, _, high = spec.nnodes.partition(":")
        if not low.isdigit() or (high and not high.isdigit()) or (high and int(high) < int(low)):
            raise ConfigurationError(f"--nnodes {spec.nnodes!r}: expected N or MIN:MAX")
    for cfg in configs:
        if cfg.strategy == "deepspeed":
            from disttrain.errors import UnavailableError

            raise UnavailableError("strategy deepspeed: DeepSpeed is not installed in this "
                                   "environment (optional; see the README)")
        if cfg.strategy in {"single", "ray"}:
            raise ConfigurationError(f"strategy {cfg.strategy} does not run under torchrun "
                                     f"(use `disttrain train --strategy {cfg.strategy}`)")
        cfg.per_rank_batch(spec.world_size)  # a batch the world does not divide: exit 3


def launch(spec: LaunchSpec, configs: list[TrainConfig],
           progress: Callable[[int, int], None] | None = None,
           timeout: float | None = None,
           commbench: dict[str, Any] | None = None) -> LaunchResult:
    """Run `configs` on `spec.world_size` ranks under torchrun; wait; collect the reports."""
    _validate(spec, configs)
    check_port_free(spec.host, spec.port)
    spec.out.mkdir(parents=True, exist_ok=True)
    plan = spec.out / "plan.json"
    payload: dict[str, Any] = {"runs": [c.model_dump() for c in configs]}
    if commbench is not None:
        payload["commbench"] = commbench
        (spec.out / "commbench.json").unlink(missing_ok=True)
    plan.write_text(json.dumps(payload, indent=2))
    for cfg in configs:
        (spec.out / f"{cfg.name}.json").unlink(missing_ok=True)
    run_id = f"disttrain-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1",
           "DISTTRAIN_PROGRESS": str(spec.out / "progress.json")}
    env.setdefault("TORCH_DISABLE_SHARE_RDZV_TCP_STORE", "1")
    if spec.threads:
        env["OMP_NUM_THREADS"] = str(spec.threads)
    started = time.perf_counter()
    procs: list[tuple[subprocess.Popen[bytes], Any]] = []
    error = ""
    restore = _stop_on_sigterm()
    try:
        for node in range(spec.nodes):
            err = (spec.out / f"torchrun-node{node}.log").open("w")
            procs.append((subprocess.Popen(torchrun_command(spec, node, run_id, plan), env=env,
                                           stdout=err, stderr=subprocess.STDOUT,
                                           start_new_session=True,
                                           preexec_fn=_die_with_parent), err))
            if node == 0 and spec.nodes > 1:
                _wait_for_store(spec.host, spec.port, procs[0][0])
        total = sum(c.steps for c in configs)
        first_exit: float | None = None
        while any(p.poll() is None for p, _ in procs):
            codes = [p.poll() for p, _ in procs]
            failed = [n for n, c in enumerate(codes) if c not in (None, 0)]
            if spec.nnodes is None and failed:
                # fixed membership and a node failed: the rest would wait out join timeouts
                error = (f"node {failed[0]}'s torchrun exited {codes[failed[0]]}; stopped "
                         "the other node(s)")
                break
            if first_exit is None and any(c is not None for c in codes):
                first_exit = time.perf_counter()
            if first_exit is not None and time.perf_counter() - first_exit > spec.node_grace_s:
                running = [n for n, c in enumerate(codes) if c is None]
                error = (f"node(s) {running} still running {spec.node_grace_s:.0f} s after "
                         "another node exited; stopped")
                break
            if progress is not None:
                progress(_progress(spec.out, configs), total)
            if timeout is not None and time.perf_counter() - started > timeout:
                raise TimeoutError(f"torchrun did not finish within {timeout:.0f} s")
            time.sleep(0.2)
    finally:
        restore()
        for proc, handle in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            handle.close()
    rc = max((p.returncode for p, _ in procs), key=abs)
    reports = {}
    for cfg in configs:
        path = spec.out / f"{cfg.name}.json"
        if path.is_file():
            reports[cfg.name] = json.loads(path.read_text())
    tail = "".join((spec.out / f"torchrun-node{n}.log").read_text()[-3000:]
                   for n in range(spec.nodes))
    logs = sorted((spec.out / "logs").rglob("*.log"))
    if (spec.out / "commbench.json").is_file():
        reports["commbench"] = json.loads((spec.out / "commbench.json").read_text())
    if error and rc == 0:
        rc = 1
    return LaunchResult(rc, time.perf_counter() - started, spec.out, reports, logs, tail, error)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM this torchrun when the launching process dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop_on_sigterm() -> Callable[[], None]:
    """SIGTERM on the launcher unwinds `launch` (its `finally` stops the torchruns)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handle)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)

    return restore


def _wait_for_store(host: str, port: int, node0: subprocess.Popen[bytes],
                    limit_s: float = 120.0) -> None:
    """Start the other nodes once node 0's c10d store listens.

    Importing torch takes seconds, many on a busy machine; a joining node that starts first
    gives up connecting, and node 0 then waits out its whole join timeout for it."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and node0.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.2)


def _progress(out: Path, configs: list[TrainConfig]) -> int:
    try:
        payload = json.loads((out / "progress.json").read_text())
    except (OSError, ValueError):
        return 0
    done = 0
    for cfg in configs:
        if cfg.name == payload.get("name"):
            return done + int(payload.get("step", 0))
        done += cfg.steps
    return done


def worker_error(result: LaunchResult) -> str:
    """The first `error:` line a worker printed (its one-line reason), if any."""
    for log in result.logs:
        if log.name == "stderr.log":
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("error: "):
                    return line[len("error: "):]
    for line in result.stderr_tail.splitlines():
        if "error: " in line:
            return line.split("error: ", 1)[1]
    return ""
