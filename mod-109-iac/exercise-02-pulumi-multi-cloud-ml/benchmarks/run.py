"""Benchmarks for pulumiml (aiinfra_shared.bench): results.json + the README table.

1. Mock preview (programs under pulumi mocks + the policy pack over gRPC) of the whole matrix
   (3 clouds x 3 envs x 4 layers = 36 stacks) versus only the stacks a one-file change
   affects (serving.max_replicas in Pulumi.aws-dev.yaml, compared section by section with the
   base revision), A-B-B-A; goal >= 5x.
2. Policy evaluations per second over gRPC (Analyze per resource + AnalyzeStack).

BENCH_ROUNDS (default 3) sets the A-B-B-A rounds, BENCH_RUNS (default 5) the repeats of 2.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml
from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)

HERE = Path(__file__).resolve().parent
EXERCISE = HERE.parent
sys.path.insert(0, str(EXERCISE / "src"))

from pulumiml.affected import affected_stacks  # noqa: E402
from pulumiml.driver import mock_preview  # noqa: E402
from pulumiml.policy.client import merge_policy_config, shared_analyzer  # noqa: E402
from pulumiml.project import Project  # noqa: E402


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    work = Path(tempfile.mkdtemp(prefix="pulumiml-bench-"))
    try:
        infra = work / "infra"
        shutil.copytree(EXERCISE / "infra", infra)
        stack_file = infra / "Pulumi.aws-dev.yaml"
        base = yaml.safe_load(stack_file.read_text())
        changed = yaml.safe_load(stack_file.read_text())
        changed["config"]["pulumiml:platform"]["serving"]["max_replicas"] += 2
        stack_file.write_text(yaml.safe_dump(changed, sort_keys=False))
        project = Project(infra)
        everything = project.stacks()
        affected = affected_stacks(project, ["infra/Pulumi.aws-dev.yaml"], lambda _: base).stacks
        client = shared_analyzer()
        print(f"warm-up: {len(everything)} stacks", file=sys.stderr)
        mock_preview(project, everything, client=client)  # imports, provider modules

        def full() -> None:
            mock_preview(project, everything, client=client)

        def only_affected() -> None:
            mock_preview(project, affected, client=client)

        print(f"A-B-B-A x{rounds}: {len(everything)} stacks vs {len(affected)}", file=sys.stderr)
        comparison = compare_abba(full, only_affected, rounds=rounds)

        preview = mock_preview(project, project.stacks(envs=["dev"]), policy=False)
        defaults = client.default_levels()
        jobs = [(str(s), r.registrations,
                 merge_policy_config(defaults, *project.policy_layers(s)))
                for s, r in preview.results.items()]
        evaluations = sum(client.evaluate(name, regs, cfg).evaluations for name, regs, cfg in jobs)
        timing = measure(lambda: [client.evaluate(n, r, c) for n, r, c in jobs], runs=runs)
        rates = summarize([evaluations / t for t in timing.samples], unit="eval/s")
        started = time.perf_counter()
        client.default_levels()
        info_ms = (time.perf_counter() - started) * 1000
    finally:
        shutil.rmtree(work, ignore_errors=True)

    speedup = comparison.speedup
    benchmarks = {
        "mock_preview_matrix_vs_affected": {
            **comparison.as_dict(), "stacks_all": len(everything),
            "stacks_affected": [str(s) for s in affected], "goal": ">= 5x",
            "met": speedup.median >= 5},
        "policy_evaluations_per_second": {**rates.as_dict(), "evaluations_per_run": evaluations,
                                          "stacks": len(jobs),
                                          "get_analyzer_info_ms": round(info_ms, 2)},
    }
    write_results(HERE / "results.json", results_document(
        "109-02", benchmarks, notes="mock previews include the policy pack over gRPC; the "
        "affected run also executes the upstream layers it references (for their outputs)"))
    table = markdown_table(["benchmark", "result"], [
        [f"mock preview: all {len(everything)} stacks vs the {len(affected)} a one-file change "
         "affects", f"{speedup.format('.3g')} (goal >= 5x)"],
        ["mock preview, all stacks", comparison.a.format(".3g")],
        [f"mock preview, affected ({', '.join(str(s) for s in affected)})",
         comparison.b.format(".3g")],
        [f"policy evaluations over gRPC ({evaluations} per run, {len(jobs)} dev stacks)",
         rates.format(".4g")],
    ])
    update_readme(EXERCISE / "README.md", table)
    print(table)


if __name__ == "__main__":
    main()
