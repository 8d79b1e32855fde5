"""What a careful user hits in the first hour: overwritten files, vague resolver errors,
host-only locks, a failed swap that loses the old environment (issue 33)."""

from __future__ import annotations

import hashlib
import platform
import sys
from pathlib import Path

import pytest

from envman.errors import Exit
from tests.conftest import PY, Invoke, write_spec

pytestmark = pytest.mark.integration


@pytest.mark.points(4)
def test_export_and_docker_build_refuse_to_overwrite_user_files(
        project: Path, envman: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_spec(project, "uv")
    mine = "FROM scratch\n# my own Dockerfile\n"
    (project / "Dockerfile").write_text(mine)
    refused = envman(project, "export", "--format", "dockerfile")
    assert refused.exit_code == Exit.CONFLICT, refused.output
    assert refused.stderr.count("\n") == 1
    assert "Dockerfile" in refused.stderr and "--force" in refused.stderr
    assert (project / "Dockerfile").read_text() == mine
    # Nothing of the set is half-written: the other two files were not created either.
    assert not (project / ".dockerignore").exists()
    assert not (project / "requirements.lock.txt").exists()

    compose = project / "docker-compose.yml"
    compose.write_text("services: {}\n")
    assert envman(project, "export", "--format", "compose").exit_code == Exit.CONFLICT
    assert compose.read_text() == "services: {}\n"

    empty = tmp_path / "empty-bin"  # no docker, no buildah; Python only (uv needs one)
    empty.mkdir()
    (empty / f"python{PY}").symlink_to(sys.executable)
    with monkeypatch.context() as no_engine:
        no_engine.setenv("PATH", str(empty))
        no_engine.setattr("sys.executable", str(empty / "python"))
        build = envman(project, "docker", "build")
    assert build.exit_code == Exit.CONFLICT, build.output
    assert (project / "Dockerfile").read_text() == mine

    forced = envman(project, "export", "--format", "dockerfile", "--force")
    assert forced.exit_code == 0, forced.output
    assert "FROM python:" in (project / "Dockerfile").read_text()
    # Writing the same content again is not a conflict.
    assert envman(project, "export", "--format", "dockerfile").exit_code == 0


@pytest.mark.points(4)
def test_conflict_unreachable_index_and_missing_things_have_their_own_codes(
        project: Path, envman: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    write_spec(project, "venv", deps=("emt-app>=1.0", "emt-core>=2"))
    clash = envman(project, "lock")
    assert clash.exit_code == Exit.RESOLUTION_CONFLICT, clash.output
    assert clash.stderr.count("\n") == 1
    assert "emt-core<2" in clash.stderr and "emt-core>=2" in clash.stderr

    write_spec(project, "uv", deps=("emt-app>=1.0", "emt-core>=2"))
    assert envman(project, "lock").exit_code == Exit.RESOLUTION_CONFLICT

    write_spec(project, "uv", deps=("emt-does-not-exist",))
    assert envman(project, "lock").exit_code == Exit.PACKAGE_NOT_FOUND

    from aiinfra_shared.procs.ports import free_port

    dead = f"http://127.0.0.1:{free_port()}/simple/"
    monkeypatch.setenv("ENVMAN_INDEX_URL", dead)
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    for backend in ("venv", "uv"):
        write_spec(project, backend)
        gone = envman(project, "lock")
        assert gone.exit_code == Exit.INDEX_UNREACHABLE, gone.output
        assert gone.stderr.count("\n") == 1
        assert dead in gone.stderr

    # Exit 8 now means only "not inside a project".
    assert envman(project, "list").exit_code == Exit.NO_ENV
    assert envman(project, "run", "--", "envman-no-such-command").exit_code == Exit.NO_ENV
    missing = envman(project.parent, "init", "--from", str(project / "nope.txt"))
    assert missing.exit_code == Exit.MISSING_INPUT
    assert "nope.txt" in missing.stderr


@pytest.mark.points(5)
def test_export_is_resolved_for_the_target_platform_with_hashes(
        project: Path, envman: Invoke) -> None:
    # emt-extra is only needed on aarch64: the host (x86_64 here) lock leaves it out, a
    # linux/arm64 image needs it.
    (project / "envman.toml").write_text(f"""[project]
name = "demo"
python = "{PY}"
backend = "venv"
dependencies = ["emt-app>=1.0", "emt-extra; platform_machine == 'aarch64'"]
[docker]
platform = "linux/arm64"
""")
    assert envman(project, "lock").exit_code == 0
    host = (project / ".envman/requirements/main.lock").read_text()
    if platform.machine() != "aarch64":
        assert "emt-extra" not in host
    result = envman(project, "export", "--format", "dockerfile")
    assert result.exit_code == 0, result.output
    lock = (project / "requirements.lock.txt").read_text()
    assert "linux/arm64" in lock.splitlines()[0]
    assert "emt-extra==0.5.0" in lock
    # Every pin carries the sha256 of the very wheel the index serves.
    from tests.support.wheelhouse import DISTS, build_wheel

    for name in ("emt-app", "emt-core", "emt-utils", "emt-extra"):
        dist = next(d for d in DISTS if d.name == name and d.version != "2.0.0")
        wheel = build_wheel(dist, project.parent / "check-wheels")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert f"{name}=={dist.version}" in lock
        assert f"--hash=sha256:{digest}" in lock
    docker = (project / "Dockerfile").read_text()
    assert "--require-hashes" in docker
    assert "docker build --platform linux/arm64" in docker

    conda = envman(project, "export", "--format", "conda", "--stdout", "--platform",
                   "linux/amd64")
    assert conda.exit_code == 0, conda.output
    assert "emt-extra" not in conda.stdout
    assert "emt-app==1.0.0" in conda.stdout
    assert f"python={PY}" in conda.stdout


@pytest.mark.points(4)
@pytest.mark.hidden
def test_failed_final_rename_keeps_the_previous_environment(
        project: Path, envman: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    write_spec(project, "uv")
    assert envman(project, "create").exit_code == 0
    marker = project / ".venv" / "marker"
    marker.write_text("old env")
    real_rename = Path.rename

    def failing_rename(self: Path, target: str | Path) -> Path:
        if Path(target) == project / ".venv" and self.name == "env":
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    failed = envman(project, "create")
    assert failed.exit_code == Exit.BACKEND_FAILED, failed.output
    assert failed.stderr.count("\n") == 1
    assert "previous environment kept" in failed.stderr
    assert marker.read_text() == "old env"
    assert not list((project / ".envman").glob("staging-*"))
