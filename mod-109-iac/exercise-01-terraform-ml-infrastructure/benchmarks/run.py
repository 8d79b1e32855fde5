"""Benchmarks for tfml (make bench): results in benchmarks/results.json and the README table.

1. The `ml-serving` assertions (tests/ml_serving.tftest.hcl) as a mocked `terraform test`
   (every run a plan, all five in one invocation) versus the same file with the mock
   replaced by a provider aimed at moto and the first run applied for real (the later plans
   refresh it, terraform test destroys it), interleaved A-B-B-A; the goal is a ratio >= 5x.
2. `terraform init` of a consumer that takes aws/object-store from the HTTPS registry.

    uv run python benchmarks/run.py [--rounds 2] [--init-runs 5]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    measure,
    results_document,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.services import start_moto_server
from aiinfra_shared.procs.terraform import Terraform, moto_provider_hcl

HERE = Path(__file__).resolve().parent
EXERCISE = HERE.parent
sys.path.insert(0, str(EXERCISE / "src"))

from tfml.consumer import (  # noqa: E402
    consumer_terraform,
    installed_version,
    write_object_store_consumer,
)
from tfml.demo import init_repo  # noqa: E402
from tfml.layout import resolve  # noqa: E402
from tfml.registry import start_background  # noqa: E402
from tfml.release import execute, plan_release  # noqa: E402
from tfml.runner import make_terraform  # noqa: E402
from tfml.tls import ensure_tls  # noqa: E402

MODULES = EXERCISE / "terraform" / "modules"
README = EXERCISE / "README.md"
IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")


def _copy_module(work: Path, name: str) -> Path:
    target = work / name
    shutil.copytree(MODULES / "aws" / "ml-serving", target, ignore=IGNORE)
    return target


def _to_moto(module: Path, region: str) -> None:
    """The same test file, with `mock_provider "aws" {}` replaced by a moto provider and the
    first run applied for real (the mocked file plans it: a mocked apply adds nothing the
    assertions read); the later plans refresh what it created and terraform test destroys it."""
    test = module / "tests" / "ml_serving.tftest.hcl"
    text, count = re.subn(r'mock_provider "aws" \{\}', moto_provider_hcl(region).strip(),
                          test.read_text())
    text, applied = re.subn(r'(run "endpoint_serves_the_model" \{\n  command = )plan\b',
                            r"\1apply", text)
    if count != 1 or applied != 1:
        raise SystemExit("ml_serving.tftest.hcl no longer has `mock_provider \"aws\" {}` and "
                         "a planned endpoint_serves_the_model run")
    test.write_text(text)


def _run_test(tf: Terraform, module: Path) -> float:
    report = tf.test(module)
    if report.status != "pass":
        raise SystemExit(f"terraform test in {module} did not pass: {report.runs} "
                         f"{report.diagnostics[:3]}")
    return report.result.duration


def bench_mock_vs_moto(tf: Terraform, work: Path, rounds: int) -> dict[str, Any]:
    moto = start_moto_server(work)
    try:
        mocked = _copy_module(work, "mocked")
        real = _copy_module(work, "moto")
        _to_moto(real, moto.region)
        moto_tf = tf.with_moto(moto.endpoint_url, moto.region)
        for path in (mocked, real):
            tf.init(path, "-backend=false")
        comparison = compare_abba(lambda: _run_test(moto_tf, real),
                                  lambda: _run_test(tf, mocked), rounds=rounds)
    finally:
        moto.stop()
    return comparison.as_dict()


def bench_registry_init(work: Path, runs: int) -> dict[str, Any]:
    repo = work / "repo"
    repo.mkdir(parents=True)
    modules = init_repo(repo, MODULES)
    module = resolve(modules, "aws/object-store")
    dist = work / "dist"
    execute(plan_release(module), dist=dist, namespace="tfml")
    tls = ensure_tls(work / "tls", "registry.tfml.test")
    server = start_background(dist, tls)
    try:
        ctf = consumer_terraform(work / "consumer-tf", server, tls, "registry.tfml.test")
        root = write_object_store_consumer(work / "consumer", host="registry.tfml.test",
                                           namespace="tfml", constraint="~> 1.0",
                                           bucket="bench-consumer", moto=False)

        def init() -> None:
            shutil.rmtree(root / ".terraform", ignore_errors=True)
            ctf.init(root)
            if installed_version(root) != "1.0.0":
                raise SystemExit("the registry did not serve 1.0.0")

        stats = measure(init, runs=runs, warmup=1)
    finally:
        server.stop()
    return stats.as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="A-B-B-A rounds (mock vs moto)")
    parser.add_argument("--init-runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tfml-bench-"))
    try:
        tf = make_terraform(work / "tf")
        print("ml-serving assertions: mocked vs applied on moto ...", flush=True)
        serving = bench_mock_vs_moto(tf, work / "serving", args.rounds)
        print("terraform init from the registry ...", flush=True)
        init = bench_registry_init(work / "registry", args.init_runs)
    except subprocess.SubprocessError as exc:
        raise SystemExit(f"benchmark failed: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {"ml_serving_mock_vs_moto": serving, "registry_init_seconds": init}
    publish(results)


def publish(results: dict[str, Any]) -> None:
    serving = results["ml_serving_mock_vs_moto"]
    ratio, moto, mock = serving["speedup"], serving["a"], serving["b"]
    init = results["registry_init_seconds"]
    rows = [
        ["ml-serving `terraform test`: applied on moto / mocked",
         f"{ratio['median']:.1f}x (range {ratio['ci_low']:.1f}-{ratio['ci_high']:.1f}, "
         f"n={ratio['n']} rounds; goal >= 5x)"],
        ["ml-serving `terraform test`, moto (apply + destroy)",
         f"{moto['median']:.1f} s (n={moto['n']})"],
        ["ml-serving `terraform test`, mock_provider", f"{mock['median']:.1f} s (n={mock['n']})"],
        ["consumer `terraform init` from the HTTPS registry",
         f"{init['median']:.2f} s (95% CI {init['ci_low']:.2f}-{init['ci_high']:.2f}, "
         f"n={init['n']})"],
    ]
    write_results(HERE / "results.json", results_document(
        "109-01", results, notes="terraform 1.11 + hashicorp/aws 5.100; moto on loopback; "
        "the same .tftest.hcl assertions both ways: mocked, every run a plan; on moto (the mock "
        "replaced by a moto provider) the first run applied for real"))
    update_readme(README, markdown_table(["benchmark", "result"], rows))
    for row in rows:
        print(" | ".join(str(cell) for cell in row))


if __name__ == "__main__":
    main()
