"""Benchmark: time to create an environment per backend, fixed dependency set, warm cache.

The dependency set is the local wheelhouse of tests/support (27 small packages: a small
graph plus 20 leaves), served over HTTP on loopback as a package index. Each backend is
locked once and warmed once, then `envs.create` (interpreter lookup, staging build, move into
place) is timed RUNS times from a clean state; the median is reported.

Writes benchmarks/results.json and the table between the BENCH markers in README.md.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from aiinfra_shared.io import atomic_write_json, atomic_write_text  # noqa: E402
from aiinfra_shared.procs.ports import free_port  # noqa: E402
from aiinfra_shared.procs.process import ServiceProcess  # noqa: E402

from envman import envs  # noqa: E402
from envman.config import load_settings  # noqa: E402
from envman.context import Context  # noqa: E402
from envman.spec import Spec  # noqa: E402
from tests.support.wheelhouse import DISTS, build_wheelhouse, serve_command  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BACKENDS = ("venv", "uv", "poetry")
DEPS = ["emt-app", "emt-plot", *sorted({d.name for d in DISTS if d.name.startswith("emt-leaf")})]


def bench_backend(workdir: Path, backend: str, index_url: str) -> list[float]:
    project = workdir / backend
    project.mkdir()
    spec = Spec.model_validate({"project": {
        "name": f"bench-{backend}", "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "backend": backend, "dependencies": DEPS}})
    atomic_write_text(project / "envman.toml", spec.to_toml())
    os.environ["ENVMAN_INDEX_URL"] = index_url
    ctx = Context(project, spec, load_settings().settings)
    envs.lock(ctx)
    envs.create(ctx, dev=False)  # warm-up: fills uv/pip/Poetry caches
    times = []
    for _ in range(RUNS):
        shutil.rmtree(ctx.env_dir)
        start = time.perf_counter()
        result = envs.create(ctx, dev=False)
        times.append(time.perf_counter() - start)
        assert result.packages >= len(DEPS), result
    return times


def main() -> None:
    os.environ["PIP_CONFIG_FILE"] = os.devnull  # this machine's pip config must not interfere
    os.environ.pop("PIP_FIND_LINKS", None)
    with tempfile.TemporaryDirectory(prefix="envman-bench-") as tmp:
        workdir = Path(tmp)
        os.environ["POETRY_CACHE_DIR"] = str(workdir / "poetry-cache")
        house = build_wheelhouse(workdir / "wheelhouse")
        port = free_port()
        url = f"http://127.0.0.1:{port}/simple/"
        server = ServiceProcess("index", serve_command(house, port), workdir / "index.log",
                                ready_http=url, timeout=30)
        server.start()
        try:
            results = {}
            for backend in BACKENDS:
                times = bench_backend(workdir, backend, url)
                results[backend] = {"median_s": round(statistics.median(times), 3),
                                    "min_s": round(min(times), 3),
                                    "runs": [round(t, 3) for t in times]}
                print(f"{backend:7s} median {results[backend]['median_s']:.2f}s "
                      f"runs {results[backend]['runs']}")
        finally:
            server.stop()
    speedup = results["venv"]["median_s"] / results["uv"]["median_s"]
    payload = {
        "benchmark": "envman create, fixed dependency set from a loopback index, warm cache",
        "packages": len(DISTS), "dependencies": len(DEPS), "runs": RUNS,
        "python": platform.python_version(), "machine": f"{os.cpu_count()} CPUs",
        "results": results, "uv_speedup_vs_venv_pip": round(speedup, 1),
    }
    atomic_write_json(HERE / "results.json", payload)
    rows = "\n".join(f"| {b} | {r['median_s']:.2f} | {r['min_s']:.2f} | {RUNS} |"
                     for b, r in results.items())
    table = ("| backend | median create (s) | min (s) | runs |\n|---|---|---|---|\n" + rows
             + f"\n\nuv vs venv+pip: **{speedup:.1f}x** faster (goal: at least 5x).")
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- BENCH:START -->", "<!-- BENCH:END -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + start + "\n" + table + "\n" + end + rest.split(end, 1)[1]
        atomic_write_text(readme, text)
    print(f"uv speedup vs venv+pip: {speedup:.1f}x; wrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
