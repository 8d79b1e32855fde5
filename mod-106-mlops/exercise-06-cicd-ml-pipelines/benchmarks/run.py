"""Benchmarks for mlcicd on the template project, with real git, DVC, act, registry, servers.

1. Cold vs cached repro: `dvc repro --force` (every stage runs) against `dvc repro` with nothing
   changed (DVC hashes deps, finds the lock matching, runs nothing), timed A-B-B-A; goal: the
   no-op costs <= 0.2x the cold run.
2. The PR workflow under act (host mode): validate job + pipeline job (pull, repro, model
   tests, report posted to the local GitHub stub, gate), wall time per run.
3. Deployment: a blue/green deploy (pull from the registry, start uvicorn, smoke test, switch),
   a manual rollback to the warm standby, and the time to recover from a bad release (the
   failed deploy, from start until the pointer is known to stay on the good version).

Knobs: BENCH_RUNS (3 A-B-B-A rounds / deploy rounds), BENCH_ACT_RUNS (2).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import yaml
from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.services import start_oci_registry
from sklearn.dummy import DummyClassifier

HERE = Path(__file__).resolve().parent
EXERCISE = HERE.parent
README = EXERCISE / "README.md"
sys.path.insert(0, str(EXERCISE))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ACT_RUNS = int(os.environ.get("BENCH_ACT_RUNS", "2"))
BIN = str(Path(sys.executable).parent)
NOOP_GOAL = 0.2


def sh(*args: str, cwd: Path, **env: str) -> str:
    full = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], **env}
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=full,
                            check=False, timeout=900)
    if result.returncode != 0:
        tail = result.stdout[-2000:] + result.stderr[-2000:]
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{tail}")
    return result.stdout


def make_project(work: Path) -> Path:
    root = work / "repo"
    sh(f"{BIN}/mlcicd", "init", str(root), "--remote", str(work / "remote"), cwd=work)
    sh(sys.executable, "-m", "dvc", "repro", cwd=root)
    sh("git", "add", "-A", cwd=root)
    sh("git", "commit", "-q", "-m", "run", cwd=root)
    sh(sys.executable, "-m", "dvc", "push", "-q", cwd=root)
    return root


def bench_repro(root: Path) -> dict[str, Any]:
    def cold() -> None:
        sh(sys.executable, "-m", "dvc", "repro", "--force", cwd=root)

    def noop() -> None:
        out = sh(sys.executable, "-m", "dvc", "repro", cwd=root)
        assert "up to date" in out, out

    comparison = compare_abba(cold, noop, rounds=RUNS)
    ratio = summarize([1 / x for x in comparison.speedup.samples], unit="x")
    return {"cold": comparison.a, "noop": comparison.b, "ratio": ratio}


def bench_act(root: Path, work: Path) -> Any:
    from tests.support.github_stub import GitHubStub

    sh("git", "checkout", "-q", "-b", "better", cwd=root)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["train"]["C"] = 0.3
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "commit", "-q", "-am", "C=0.3", cwd=root)
    event = work / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 1, "base": {"ref": "main"}},
                                 "repository": {"full_name": "acme/model"}}))
    times = []
    with GitHubStub() as stub:
        for _ in range(ACT_RUNS):
            start = time.perf_counter()
            sh(f"{BIN}/act", "pull_request", "-W", ".github/workflows/pr.yml", "-P",
               "ubuntu-latest=-self-hosted", "-e", str(event), "--env",
               f"MLCICD_GITHUB_API_URL={stub.url}", "--env",
               f"PATH={BIN}:/usr/local/bin:/usr/bin:/bin", "-s", "GITHUB_TOKEN=x",
               "--action-offline-mode", cwd=root)
            times.append(time.perf_counter() - start)
        assert len(stub.comments) == 1, "act runs must update one comment"
    sh("git", "checkout", "-q", "main", cwd=root)
    return summarize(times)


def bench_deploy(root: Path, work: Path) -> dict[str, Any]:
    from mlcicd.adapters.registry import Registry
    from mlcicd.deploy import DeployOptions, Environment, deploy, rollback, stop_all
    from mlcicd.errors import CheckFailedError
    from mlcicd.packaging import ANN_VERSION, package, push_folder

    registry_handle = start_oci_registry(work / "registry")
    env = Environment(work / "state", "staging")
    try:
        registry = Registry(registry_handle.host)
        repo = "ml/bench"
        good = package(root, registry, repo, "1.0.0")
        registry.tag(good.ref, f"{registry.host}/{repo}:1.0.1")
        bad_dir = work / "bad"
        registry.pull(good.ref, bad_dir)
        bundle = joblib.load(bad_dir / "model.joblib")
        train = pd.read_csv(root / "data/prepared/train.csv")
        dummy = DummyClassifier(strategy="constant", constant=0).fit(
            train[bundle["features"]], train["target"])
        joblib.dump({"model": dummy, "features": bundle["features"]}, bad_dir / "model.joblib")
        annotations = {**registry.manifest(good.ref)["annotations"], ANN_VERSION: "2.0.0"}
        bad = push_folder(registry, repo, bad_dir, ["2.0.0"], annotations)
        options = DeployOptions(latency_budget_ms=2000)
        deploy(env, registry, f"{registry.host}/{repo}:1.0.0", options)
        deploys, rollbacks, recoveries = [], [], []
        for i in range(RUNS):
            tag = "1.0.1" if i % 2 == 0 else "1.0.0"
            start = time.perf_counter()
            deploy(env, registry, f"{registry.host}/{repo}:{tag}", options)
            deploys.append(time.perf_counter() - start)
            start = time.perf_counter()
            rollback(env, options)
            rollbacks.append(time.perf_counter() - start)
            start = time.perf_counter()
            try:
                deploy(env, registry, bad.ref, options)
                raise SystemExit("the bad release was deployed")
            except CheckFailedError:
                recoveries.append(time.perf_counter() - start)
        return {"deploy": summarize(deploys), "rollback": summarize(rollbacks),
                "recover": summarize(recoveries)}
    finally:
        stop_all(env)
        registry_handle.stop()


def main() -> int:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="mlcicd-bench-"))
    try:
        root = make_project(work)
        repro = bench_repro(root)
        deploy_stats = bench_deploy(root, work)
        act = bench_act(root, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = repro["ratio"]
    met = ratio.median <= NOOP_GOAL
    benchmarks = {
        "repro_cold_s": repro["cold"].as_dict(), "repro_noop_s": repro["noop"].as_dict(),
        "noop_over_cold": {**ratio.as_dict(), "goal": f"<= {NOOP_GOAL}", "met": met},
        "pr_workflow_act_s": act.as_dict(),
        "deploy_s": deploy_stats["deploy"].as_dict(),
        "rollback_s": deploy_stats["rollback"].as_dict(),
        "recover_from_bad_release_s": deploy_stats["recover"].as_dict(),
    }
    notes = ("Template project (569 rows, 4 stages). Cold = dvc repro --force, no-op = dvc "
             "repro with nothing changed, A-B-B-A. act in host mode; deploys on loopback "
             "with a CNCF distribution registry; rollback switches to the warm standby.")
    write_results(HERE / "results.json", results_document("106-06", benchmarks, notes))
    rows = [
        ["cold `dvc repro --force` (4 stages)", repro["cold"].format(".2f"), "-", "-"],
        ["no-op `dvc repro` (cached)", repro["noop"].format(".2f"), "-", "-"],
        ["no-op / cold (A-B-B-A)", ratio.format(".3f"), f"<= {NOOP_GOAL}x",
         "yes" if met else "no"],
        ["PR workflow under act (2 jobs)", act.format(".1f"), "-", "-"],
        ["blue/green deploy (pull, start, smoke, switch)", deploy_stats["deploy"].format(".2f"),
         "-", "-"],
        ["rollback to the warm standby", deploy_stats["rollback"].format(".3f"), "-", "-"],
        ["time to recover from a bad release (failed smoke, auto rollback)",
         deploy_stats["recover"].format(".2f"), "-", "-"],
    ]
    update_readme(README, markdown_table(["measurement", "result", "goal", "met"], rows))
    for row in rows:
        print(f"{row[0]}: {row[1]}")
    print(f"wrote {HERE / 'results.json'} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
