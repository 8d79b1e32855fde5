"""Benchmarks for imgopt: write benchmarks/results.json and the README table.

1. The sample app before and after `imgopt fix`, built for real with buildah (one run, as
   the issue asks): after/before ratios of size, layers, cold build and warm rebuild after a
   source-only change. Goals: size <= 0.5x, rebuild <= 0.5x.
2. Analysis time of a 20,000-file image (docker-archive): `imgopt analyze --json` vs
   `dive -j`, both as processes, BENCH_RUNS timed runs each (default 5) after one warm-up.

Statistics, results.json and the README table come from `aiinfra_shared.bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    markdown_table,
    measure,
    results_document,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.images import ImageBuilder

from imgopt.adapters.archive import read_image
from imgopt.compare import compare, ratios
from imgopt.context import measure as measure_context
from imgopt.fix import fix
from imgopt.layers import analyse
from imgopt.sample import materialize

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BIN = Path(sys.executable).parent
MANY_FILES = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /data && cd /data && i=0 && while [ $i -lt 10000 ]; do echo $i > f$i; i=$((i+1)); done
RUN cd /data && i=0 && while [ $i -lt 5000 ]; do echo x$i > f$i; i=$((i+1)); done
RUN mkdir -p /more && cd /more && i=0 && while [ $i -lt 5000 ]; do echo $i > g$i; i=$((i+1)); done
"""


def bench_sample(work: Path) -> dict[str, Any]:
    app = materialize(work / "app")
    before = (app / "Dockerfile").read_text()
    after = fix(before, measure_context(app)).fixed
    first, second = compare(("before", before, app), ("after", after, app), work / "compare",
                            touch="app/main.sh")
    # The OCI layout lives in a temporary folder: a path that would only name this machine.
    sides = [{k: v for k, v in side.__dict__.items() if k != "oci_layout"}
             for side in (first, second)]
    return {"before": sides[0], "after": sides[1], "ratios": ratios(first, second)}


def bench_analysis(work: Path) -> dict[str, Any]:
    builder = ImageBuilder(work / "many")
    image = builder.build(MANY_FILES)
    archive = str(image.docker_archive)
    entries = sum(len(layer.entries) for layer in read_image(archive).layers)
    ours = measure(lambda: subprocess.run([str(BIN / "imgopt"), "analyze", archive, "--json"],
                                          check=True, capture_output=True), runs=RUNS)
    report = work / "dive.json"
    dive = measure(lambda: subprocess.run([str(BIN / "dive"), "-j", str(report), "--source",
                                           "docker-archive", archive],
                                          check=True, capture_output=True), runs=RUNS)
    library = measure(lambda: analyse(read_image(archive)), runs=RUNS)
    return {"entries": entries, "imgopt_cli": ours, "dive": dive, "imgopt_library": library}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="imgopt-bench-") as tmp:
        work = Path(tmp)
        sample = bench_sample(work)
        analysis = bench_analysis(work)
    r = sample["ratios"]
    b, a = sample["before"], sample["after"]
    benchmarks = {
        "sample_before": b, "sample_after": a,
        "ratio_size": {"value": r["size"], "goal": "<= 0.5", "met": r["size"] <= 0.5},
        "ratio_layers": {"value": r["layers"]},
        "ratio_cold_build": {"value": r["cold_build"]},
        "ratio_rebuild": {"value": r["rebuild"], "goal": "<= 0.5", "met": r["rebuild"] <= 0.5},
        "analysis_entries": analysis["entries"],
        "analysis_imgopt_cli": analysis["imgopt_cli"].as_dict(),
        "analysis_dive": analysis["dive"].as_dict(),
        "analysis_imgopt_library": analysis["imgopt_library"].as_dict(),
    }
    notes = ("sample: one build of each side (cold, own buildah vfs storage) and one rebuild "
             "after a source-only change; analysis: processes timed end to end")
    write_results(HERE / "results.json", results_document("103-05", benchmarks, notes))
    mb = 1e6
    rows = [
        ["sample size before -> after", f"{b['size_bytes'] / mb:.1f} MB -> "
         f"{a['size_bytes'] / mb:.1f} MB ({r['size']:.2f}x)", "<= 0.5x",
         "yes" if r["size"] <= 0.5 else "no"],
        ["sample layers", f"{b['layers']} -> {a['layers']} ({r['layers']:.2f}x)", "-", "-"],
        ["sample efficiency (dive)", f"{b['efficiency']:.1%} -> {a['efficiency']:.1%}", "-", "-"],
        ["sample cold build", f"{b['cold_seconds']:.2f} s -> {a['cold_seconds']:.2f} s "
         f"({r['cold_build']:.2f}x)", "-", "-"],
        ["sample rebuild after a source change", f"{b['rebuild_seconds']:.2f} s -> "
         f"{a['rebuild_seconds']:.2f} s ({r['rebuild']:.2f}x)", "<= 0.5x",
         "yes" if r["rebuild"] <= 0.5 else "no"],
        [f"analysis, {analysis['entries']} tar entries: `imgopt analyze --json`",
         analysis["imgopt_cli"].format(), "-", "-"],
        [f"analysis, {analysis['entries']} tar entries: `dive -j`",
         analysis["dive"].format(), "-", "-"],
        ["analysis, same image: imgopt library call (no process start)",
         analysis["imgopt_library"].format(), "-", "-"],
    ]
    update_readme(README, markdown_table(["benchmark", "result", "goal", "met"], rows))
    print(markdown_table(["benchmark", "result", "goal", "met"], rows))


if __name__ == "__main__":
    main()
