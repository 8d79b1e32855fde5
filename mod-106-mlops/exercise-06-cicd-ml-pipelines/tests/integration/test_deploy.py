"""Packaging to the real OCI registry, and blue/green deploys with automatic rollback: real
uvicorn servers on loopback, smoke-tested over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import joblib
import pandas as pd
import pytest
import yaml
from sklearn.dummy import DummyClassifier

from mlcicd.adapters.registry import Registry
from mlcicd.packaging import ANN_DATA, ANN_METRICS, ANN_REVISION, ANN_VERSION, push_folder
from tests.conftest import Project, cli, sh

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPOSITORY = "ml/breast-cancer"


@pytest.fixture(scope="module")
def env(oci_registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    state = tmp_path_factory.mktemp("deploy-state")
    settings = {"MLCICD_REGISTRY": oci_registry.host, "MLCICD_STATE_DIR": str(state),
                "MLCICD_SMOKE_LATENCY_BUDGET_MS": "2000"}
    yield settings
    for name in ("staging", "prod"):
        cli("stop", "--env", name, env=settings)


@pytest.fixture(scope="module")
def packaged(project: Project, env: dict[str, str]) -> str:
    result = cli("-C", str(project.root), "package", "--version", "1.0.0", "--print-ref", env=env)
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture(scope="module")
def bad_v2(oci_registry, packaged: str, project: Project, tmp_path_factory) -> str:
    """A planted bad release: the real artifact with a constant model swapped in."""
    registry = Registry(oci_registry.host)
    folder = tmp_path_factory.mktemp("bad")
    registry.pull(packaged, folder)
    bundle = joblib.load(folder / "model.joblib")
    train = pd.read_csv(project.root / "data/prepared/train.csv")
    dummy = DummyClassifier(strategy="constant", constant=0).fit(train[bundle["features"]],
                                                                  train["target"])
    joblib.dump({"model": dummy, "features": bundle["features"]}, folder / "model.joblib")
    manifest = registry.manifest(packaged)
    annotations = {**manifest["annotations"], ANN_VERSION: "2.0.0"}
    return push_folder(registry, REPOSITORY, folder, ["2.0.0"], annotations).ref


@pytest.mark.points(5)
def test_pushed_artifact_pulls_back_and_matches_dvc_lock_and_git(project: Project, packaged: str,
                                                                 oci_registry, tmp_path):
    registry = Registry(oci_registry.host)
    sha = sh("git", "rev-parse", "HEAD", cwd=project.root).stdout.strip()
    assert packaged == f"{oci_registry.host}/{REPOSITORY}:1.0.0"
    by_sha = f"{oci_registry.host}/{REPOSITORY}:{sha[:12]}"
    assert registry.digest(by_sha) == registry.digest(packaged)  # one manifest, two tags
    assert {"1.0.0", sha[:12]} <= set(registry.tags(REPOSITORY))
    annotations = registry.manifest(packaged)["annotations"]
    lock = yaml.safe_load((project.root / "dvc.lock").read_text())
    raw = next(d for d in lock["stages"]["prepare"]["deps"]
               if d["path"] == "data/raw/breast_cancer.csv")
    assert annotations[ANN_REVISION] == sha
    assert annotations[ANN_DATA] == raw["md5"]
    assert json.loads(annotations[ANN_METRICS]) == json.loads(
        (project.root / "metrics.json").read_text())
    files = registry.pull(packaged, tmp_path / "pulled")
    assert sorted(p.name for p in files) == ["dvc.lock", "golden.json", "metrics.json",
                                             "model.joblib", "params.yaml"]
    assert (tmp_path / "pulled/dvc.lock").read_text() == (project.root / "dvc.lock").read_text()


@pytest.mark.points(2)
def test_package_refuses_a_dirty_tree(project: Project, env: dict[str, str]):
    params = project.root / "params.yaml"
    saved = params.read_bytes()
    params.write_text(params.read_text().replace("C: 1.0", "C: 2.0"))
    try:
        result = cli("-C", str(project.root), "package", "--version", "1.0.9", env=env)
    finally:
        params.write_bytes(saved)
    assert result.exit_code == 6
    assert "uncommitted changes (params.yaml)" in result.output


@pytest.mark.points(6)
def test_deploy_then_bad_v2_rolls_back_by_itself(packaged: str, bad_v2: str,
                                                 env: dict[str, str]):
    first = cli("deploy", "--env", "staging", "--ref", "1.0.0", env=env)
    assert first.exit_code == 0, first.output
    live = json.loads(cli("status", "--env", "staging", "--json", env=env).output)["live"]
    assert httpx.get(f"{live['url']}/health").json()["version"] == "1.0.0"

    second = cli("deploy", "--env", "staging", "--ref", "2.0.0", env=env)
    assert second.exit_code == 1
    assert "smoke test of 2.0.0 failed" in second.output and "1.0.0 still serves" in second.output
    assert "golden: FAIL accuracy" in second.output
    state = json.loads(cli("status", "--env", "staging", "--json", env=env).output)
    assert state["live"] == live                          # pointer untouched
    health = httpx.get(f"{live['url']}/health").json()    # and v1 still answers
    assert health["version"] == "1.0.0" and health["digest"] == live["digest"]
    events = [(e["event"], e.get("version"), e["result"]) for e in state["history"]]
    assert events == [("deploy", "1.0.0", "live"), ("deploy", "2.0.0", "rolled back")]


@pytest.mark.points(5)
def test_blue_green_switch_and_manual_rollback(packaged: str, oci_registry,
                                               env: dict[str, str]):
    registry = Registry(oci_registry.host)
    registry.tag(packaged, f"{oci_registry.host}/{REPOSITORY}:1.0.1")
    assert cli("deploy", "--env", "prod", "--ref", "1.0.0", env=env).exit_code == 0
    v1 = json.loads(cli("status", "--env", "prod", "--json", env=env).output)["live"]
    result = cli("deploy", "--env", "prod", "--ref", "1.0.1", env=env)
    assert result.exit_code == 0, result.output
    state = json.loads(cli("status", "--env", "prod", "--json", env=env).output)
    assert state["live"]["slot"] != v1["slot"]
    assert state["standby"]["url"] == v1["url"]
    smoke = cli("smoke", "--env", "prod", env=env)
    assert smoke.exit_code == 0 and "ok accuracy" in smoke.output
    back = cli("rollback", "--env", "prod", env=env)
    assert back.exit_code == 0, back.output
    state = json.loads(cli("status", "--env", "prod", "--json", env=env).output)
    assert state["live"]["url"] == v1["url"]
    assert httpx.get(f"{v1['url']}/health").status_code == 200
    assert state["history"][-1]["event"] == "rollback"
    assert "rollback" in cli("status", "--env", "prod", env=env).output


@pytest.mark.points(3)
@pytest.mark.hidden
def test_unreachable_registry_and_unknown_tag_leave_live_untouched(packaged: str,
                                                                   env: dict[str, str],
                                                                   free_port: int):
    assert cli("deploy", "--env", "staging", "--ref", "1.0.0", env=env).exit_code in (0, 1)
    before = json.loads(cli("status", "--env", "staging", "--json", env=env).output)
    down = {**env, "MLCICD_REGISTRY": f"127.0.0.1:{free_port}"}
    result = cli("deploy", "--env", "staging", "--ref", "1.0.0", env=down)
    assert result.exit_code == 5
    assert "unreachable" in result.output and len(result.output.strip().splitlines()) == 1
    missing = cli("deploy", "--env", "staging", "--ref", "7.7.7", env=env)
    assert missing.exit_code in (4, 1) and "7.7.7" in missing.output
    after = json.loads(cli("status", "--env", "staging", "--json", env=env).output)
    assert after["live"] == before["live"]
    assert httpx.get(f"{after['live']['url']}/health").status_code == 200


