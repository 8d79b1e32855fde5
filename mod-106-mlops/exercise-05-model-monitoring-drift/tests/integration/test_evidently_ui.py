"""Snapshots pushed to a real `evidently ui` service through RemoteWorkspace and its secret."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftwatch.adapters.evidently_reports import run_window
from driftwatch.adapters.evidently_workspace import SnapshotStore
from driftwatch.errors import AuthError, UnavailableError
from driftwatch.reference import build_reference
from driftwatch.simulate import Simulator
from tests.helpers import with_ids

pytestmark = pytest.mark.integration
SECRET = "ui-s3cret"


@pytest.mark.points(3)
def test_a_snapshot_pushed_to_the_ui_service_is_listed_by_its_api(
        service_process: Callable[..., Any], free_port: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port}"
    exe = str(Path(sys.executable).parent / "evidently")
    service_process("evidently-ui", [exe, "ui", "--workspace", str(tmp_path / "served"),
                                     "--host", "127.0.0.1", "--port", str(free_port),
                                     "--secret", SECRET],
                    ready_http=f"{url}/api/version", timeout=90)
    sim = Simulator(seed=41)
    profile = build_reference(with_ids(sim.sample(800), "t"), sim.contract())
    run = run_window(with_ids(sim.sample(400), "w"), profile, None, {}, 0.25, 0.05)
    store = SnapshotStore(tmp_path / "local", url, SECRET, project="driftwatch-ui-test")
    ids = store.add(run.snapshots["drift"], "credit_default 2026-05-03 drift")
    assert set(ids) == {"local", "remote"}

    projects = httpx.get(f"{url}/api/projects", timeout=10).json()
    project = next(p for p in projects if p["name"] == "driftwatch-ui-test")
    snapshots = httpx.get(f"{url}/api/projects/{project['id']}/snapshots", timeout=10).json()
    assert [s["id"] for s in snapshots] == [ids["remote"]]
    assert snapshots[0]["name"] == "credit_default 2026-05-03 drift"

    wrong = SnapshotStore(tmp_path / "local2", url, "not-the-secret", project="other")
    with pytest.raises(AuthError, match="rejected the secret"):
        wrong.add(run.snapshots["drift"], "x")


@pytest.mark.points(1)
def test_an_unreachable_ui_service_is_a_clean_error(tmp_path: Path, free_port: int) -> None:
    with pytest.raises(UnavailableError, match=r"Evidently UI at .* is not reachable"):
        SnapshotStore(tmp_path, f"http://127.0.0.1:{free_port}", SECRET)
