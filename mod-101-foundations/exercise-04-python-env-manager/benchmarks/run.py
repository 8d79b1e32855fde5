"""Benchmark: time to create an environment per backend, fixed dependency set, warm cache.

The dependency set is the local wheelhouse of tests/support (27 small packages: a small
graph plus 20 leaves), served over HTTP on loopback as a package index. Each backend is
locked once and warmed once, then `envs.create` (interpreter lookup, staging build, move into
place) is timed from a clean state (removing the old environment is not timed).

venv+pip and uv are timed A-B-B-A (`compare_abba`, BENCH_RUNS rounds, so 2 x BENCH_RUNS
creates each): their times and the "uv is N times faster" ratio come from the same
interleaved runs. Poetry is timed BENCH_RUNS times on its own. Statistics, results.json and
the README table come from `aiinfra_shared.bench`.

Knobs: BENCH_RUNS (default 5).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from aiinfra_shared.bench import (  # noqa: E402
    compare_abba,
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.io import atomic_write_text  # noqa: E402
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
SPEEDUP_GOAL = 5.0  # uv at least 5x faster than venv+pip


def prepare(workdir: Path, backend: str) -> Callable[[], float]:
    """Lock and warm `backend` once; return a callable timing one clean create."""
    project = workdir / backend
    project.mkdir()
    spec = Spec.model_validate({"project": {
        "name": f"bench-{backend}", "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "backend": backend, "dependencies": DEPS}})
    atomic_write_text(project / "envman.toml", spec.to_toml())
    ctx = Context(project, spec, load_settings().settings)
    envs.lock(ctx)
    envs.create(ctx, dev=False)  # warm-up: fills uv/pip/Poetry caches

    def create() -> float:
        shutil.rmtree(ctx.env_dir)  # not timed
        start = time.perf_counter()
        result = envs.create(ctx, dev=False)
        elapsed = time.perf_counter() - start
        assert result.packages >= len(DEPS), result
        return elapsed

    return create


def main() -> None:
    os.environ["PIP_CONFIG_FILE"] = os.devnull  # this machine's pip config must not interfere
    os.environ.pop("PIP_FIND_LINKS", None)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="envman-bench-") as tmp:
        workdir = Path(tmp)
        os.environ["POETRY_CACHE_DIR"] = str(workdir / "poetry-cache")
        house = build_wheelhouse(workdir / "wheelhouse")
        port = free_port()
        url = f"http://127.0.0.1:{port}/simple/"
        os.environ["ENVMAN_INDEX_URL"] = url
        server = ServiceProcess("index", serve_command(house, port), workdir / "index.log",
                                ready_http=url, timeout=30)
        server.start()
        try:
            creates = {backend: prepare(workdir, backend) for backend in BACKENDS}
            abba = compare_abba(creates["venv"], creates["uv"], rounds=RUNS)
            poetry = summarize([creates["poetry"]() for _ in range(RUNS)])
        finally:
            server.stop()
    times = {"venv": abba.a, "uv": abba.b, "poetry": poetry}
    speedup = abba.speedup
    met = speedup.median >= SPEEDUP_GOAL
    benchmarks: dict[str, object] = {
        f"create_{backend}": stats.as_dict(3) for backend, stats in times.items()}
    benchmarks["uv_speedup_vs_venv_pip"] = {
        **speedup.as_dict(2), "goal": f">= {SPEEDUP_GOAL:g}x", "met": met,
        "method": f"A-B-B-A, {RUNS} rounds, per-round mean(venv) / mean(uv)"}
    notes = (f"envman create, {len(DEPS)} direct dependencies ({len(DISTS)} packages) from a "
             f"loopback index, locked and warmed once; venv/uv timed A-B-B-A over {RUNS} "
             f"rounds, poetry {RUNS} runs. Wall time of the run: "
             f"{time.perf_counter() - began:.0f} s.")
    write_results(HERE / "results.json", results_document("101-04", benchmarks, notes))
    rows: list[list[object]] = [
        [f"create, {backend}", stats.format(), "-", "-"] for backend, stats in times.items()]
    rows.append(["uv vs venv+pip (A-B-B-A)", speedup.format(".1f"),
                 f">= {SPEEDUP_GOAL:g}x faster", "yes" if met else "**no**"])
    update_readme(ROOT / "README.md", markdown_table(["benchmark", "result", "goal", "met"], rows))
    for backend, stats in times.items():
        print(f"{backend:7s} {stats.format()}")
    print(f"uv speedup vs venv+pip: {speedup.format('.1f')}; wrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
