"""`make run`: template project -> PR workflow under act -> package -> deploy -> a bad release
that rolls back by itself. Everything runs for real on loopback, in .demo/ (recreated)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import pandas as pd
import yaml
from aiinfra_shared.procs.services import start_oci_registry
from sklearn.dummy import DummyClassifier

EXERCISE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXERCISE))
DEMO = EXERCISE / ".demo"
BIN = str(Path(sys.executable).parent)


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(*args: str, cwd: Path, check: bool = True, **env: str) -> int:
    print(f"$ {' '.join(args)}", flush=True)
    full = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], **env}
    code = subprocess.run(list(args), cwd=cwd, env=full, check=False).returncode
    if check and code != 0:
        raise SystemExit(f"demo step failed ({code}): {' '.join(args)}")
    return code


def plant_bad_release(root: Path, host: str) -> None:
    """Push 2.0.0: the real artifact with a constant model (what a broken build could ship)."""
    from mlcicd.adapters.registry import Registry
    from mlcicd.packaging import ANN_VERSION, push_folder

    registry = Registry(host)
    good = f"{host}/ml/breast-cancer:1.0.0"
    folder = DEMO / "bad-release"
    registry.pull(good, folder)
    bundle = joblib.load(folder / "model.joblib")
    train = pd.read_csv(root / "data/prepared/train.csv")
    dummy = DummyClassifier(strategy="constant", constant=0).fit(train[bundle["features"]],
                                                                  train["target"])
    joblib.dump({"model": dummy, "features": bundle["features"]}, folder / "model.joblib")
    annotations = {**registry.manifest(good)["annotations"], ANN_VERSION: "2.0.0"}
    pushed = push_folder(registry, "ml/breast-cancer", folder, ["2.0.0"], annotations)
    print(f"planted {pushed.ref}")


def main() -> int:
    from tests.support.github_stub import GitHubStub

    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    registry = start_oci_registry(DEMO / "registry")
    env = {"MLCICD_REGISTRY": registry.host, "MLCICD_STATE_DIR": str(DEMO / "deployments"),
           "MLCICD_SMOKE_LATENCY_BUDGET_MS": "1000"}
    root = DEMO / "model-repo"
    try:
        with GitHubStub() as github:
            step("mlcicd init: git + DVC 3 template project, DVC remote on a local folder")
            run("mlcicd", "init", str(root), "--remote", str(DEMO / "dvc-remote"), cwd=DEMO)
            step("main: dvc repro (prepare -> validate -> train -> evaluate), commit, dvc push")
            run(sys.executable, "-m", "dvc", "repro", cwd=root)
            run("git", "add", "-A", cwd=root)
            run("git", "commit", "-q", "-m", "pipeline run", cwd=root)
            run("mlcicd", "data", "push", cwd=root)
            step("a pull request with better params, run by act (.github/workflows/pr.yml)")
            run("git", "checkout", "-q", "-b", "better-c", cwd=root)
            params = yaml.safe_load((root / "params.yaml").read_text())
            params["train"]["C"] = 0.3
            (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            run("git", "commit", "-q", "-am", "train: C=0.3", cwd=root)
            event = DEMO / "event.json"
            event.write_text(json.dumps({"pull_request": {"number": 1, "base": {"ref": "main"}},
                                         "repository": {"full_name": "acme/model"}}))
            run("act", "pull_request", "-W", ".github/workflows/pr.yml", "-P",
                "ubuntu-latest=-self-hosted", "-e", str(event), "--env",
                f"MLCICD_GITHUB_API_URL={github.url}", "--env",
                f"PATH={BIN}:/usr/local/bin:/usr/bin:/bin", "-s", "GITHUB_TOKEN=demo",
                "--action-offline-mode", cwd=root)
            print(f"\nPR comment on the GitHub stub ({len(github.comments)} comment):")
            print(next(iter(github.comments.values()))["body"])
        step("merge: package main as an OCI artifact, deploy to staging (blue/green)")
        run("git", "checkout", "-q", "main", cwd=root)
        run("mlcicd", "package", "--version", "1.0.0", cwd=root, **env)
        run("mlcicd", "deploy", "--env", "staging", "--ref", "1.0.0", cwd=root, **env)
        step("a bad release 2.0.0: the smoke test fails, the deployment rolls back by itself")
        plant_bad_release(root, registry.host)
        code = run("mlcicd", "deploy", "--env", "staging", "--ref", "2.0.0", cwd=root,
                   check=False, **env)
        print(f"(deploy exited {code}, as it should)")
        run("mlcicd", "status", "--env", "staging", cwd=root, **env)
    finally:
        run("mlcicd", "stop", "--env", "staging", cwd=DEMO, check=False, **env)
        registry.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
