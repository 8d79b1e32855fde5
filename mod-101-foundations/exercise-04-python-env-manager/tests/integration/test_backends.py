"""Real environments built with venv+pip, uv and Poetry from the local package index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envman.adapters.base import parse_pins
from envman.adapters.tools import uv_bin
from envman.errors import Exit
from tests.conftest import PY, Invoke, write_spec

pytestmark = pytest.mark.integration


def _installed(envman: Invoke, project: Path) -> dict[str, str]:
    result = envman(project, "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row["installed"] for row in json.loads(result.stdout)
            if row["installed"]}


@pytest.mark.points(6)
@pytest.mark.parametrize("backend", ["venv", "uv", "poetry"])
def test_create_lock_doctor_per_backend(backend: str, project: Path, envman: Invoke) -> None:
    spec_path = write_spec(project, backend)
    before = spec_path.read_bytes()
    result = envman(project, "create")
    assert result.exit_code == 0, result.output
    assert f"[{backend}]" in result.stdout
    installed = _installed(envman, project)
    assert installed["emt-app"] == "1.0.0"
    assert installed["emt-core"] == "1.0.0"  # emt-app pins emt-core<2 although 2.0.0 exists
    assert installed["emt-devtool"] == "3.1.0"
    assert "emt-extra" not in installed
    lock_file = {"venv": ".envman/requirements/main.lock", "uv": ".envman/uv.lock",
                 "poetry": ".envman/poetry.lock"}[backend]
    assert (project / lock_file).is_file()
    assert spec_path.read_bytes() == before
    assert not list((project / ".envman").glob("staging-*"))
    # The moved venv works from its final path (scripts and prefix point there).
    out = subprocess.run([str(project / ".venv/bin/python"), "-c",
                          "import sys, emt_app; print(sys.prefix); print(emt_app.hello())"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == [str(project / ".venv"), "hello from emt-app"]
    doctor = envman(project, "doctor", "--json")
    assert doctor.exit_code == 0, doctor.output
    assert json.loads(doctor.stdout)["healthy"] is True


@pytest.mark.points(5)
def test_groups_export_and_diff(project: Path, envman: Invoke) -> None:
    write_spec(project, "uv", groups='[groups]\nplot = ["emt-plot"]\n')
    assert envman(project, "create", "--no-dev", "--group", "plot").exit_code == 0
    installed = _installed(envman, project)
    assert "emt-plot" in installed
    assert "emt-devtool" not in installed

    other = project.parent / "other"
    other.mkdir()
    write_spec(other, "poetry")
    assert envman(other, "create").exit_code == 0
    diff = envman(project, "diff", str(project), str(other), "--json")
    assert diff.exit_code == Exit.UNHEALTHY
    rows = {r["name"]: (r["a"], r["b"]) for r in json.loads(diff.stdout)}
    assert rows["emt-plot"] == ("1.0.0".replace("1.0.0", "0.2.0"), None)
    assert rows["emt-devtool"] == (None, "3.1.0")
    assert "emt-app" not in rows
    same = envman(project, "diff", str(project / ".venv"), str(project / ".venv"))
    assert same.exit_code == 0
    assert "no differences" in same.stdout

    conda = envman(project, "export", "--format", "conda", "--stdout")
    assert conda.exit_code == 0, conda.output
    assert "emt-app==1.0.0" in conda.stdout
    assert f"python={PY}" in conda.stdout
    assert "emt-devtool" not in conda.stdout  # dev deps only with --dev


@pytest.mark.points(6)
def test_add_remove_and_missing_package_is_all_or_nothing(project: Path, envman: Invoke) -> None:
    spec_path = write_spec(project, "uv")
    assert envman(project, "create").exit_code == 0
    added = envman(project, "add", "emt-extra==0.5.0")
    assert added.exit_code == 0, added.output
    assert _installed(envman, project)["emt-extra"] == "0.5.0"
    assert "emt-extra==0.5.0" in spec_path.read_text()

    spec_before = spec_path.read_bytes()
    locks = {p: p.read_bytes() for p in (project / ".envman").glob("*.*")}
    env_before = _installed(envman, project)
    missing = envman(project, "add", "emt-does-not-exist")
    assert missing.exit_code == Exit.PACKAGE_NOT_FOUND
    assert missing.stderr.count("\n") == 1
    assert "package not available" in missing.stderr
    assert spec_path.read_bytes() == spec_before
    assert {p: p.read_bytes() for p in locks} == locks
    assert _installed(envman, project) == env_before

    removed = envman(project, "remove", "emt-extra")
    assert removed.exit_code == 0, removed.output
    assert "emt-extra" not in _installed(envman, project)
    assert envman(project, "remove", "emt-extra").exit_code == Exit.CONFLICT


@pytest.mark.points(6)
def test_failed_build_leaves_previous_env_and_spec(project: Path, envman: Invoke,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec_path = write_spec(project, "venv")
    assert envman(project, "create").exit_code == 0
    marker = project / ".venv" / "marker"
    marker.write_text("old env")
    spec_before = spec_path.read_bytes()
    # The lock is current, so the build goes straight to pip, which finds no index.
    from aiinfra_shared.procs.ports import free_port

    monkeypatch.setenv("ENVMAN_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple/")
    monkeypatch.setenv("PIP_RETRIES", "0")
    failed = envman(project, "create", "--backend", "venv")
    # pip says "no matching distribution" after the connection errors: still exit 12.
    assert failed.exit_code == Exit.INDEX_UNREACHABLE, failed.output
    assert failed.stderr.count("\n") == 1
    assert marker.read_text() == "old env"
    assert spec_path.read_bytes() == spec_before
    assert not list((project / ".envman").glob("staging-*"))


@pytest.mark.points(4)
def test_missing_interpreter_changes_nothing(project: Path, envman: Invoke) -> None:
    spec_path = write_spec(project, "uv")
    before = spec_path.read_bytes()
    result = envman(project, "create", "--python", "3.99")
    assert result.exit_code == Exit.INTERPRETER_NOT_FOUND
    assert result.stderr.startswith("error: Python 3.99 not found")
    assert result.stderr.count("\n") == 1
    assert spec_path.read_bytes() == before
    assert not (project / ".venv").exists()


@pytest.mark.points(8)
def test_doctor_detects_drift_and_fixes_it(project: Path, envman: Invoke, index_url: str) -> None:
    spec_path = write_spec(project, "uv")
    assert envman(project, "create").exit_code == 0
    uv = [uv_bin(), "pip"]
    python = ["--python", str(project / ".venv/bin/python")]
    subprocess.run([*uv, "install", *python, "--no-deps", "--index-url", index_url, "emt-extra",
                    "emt-core==2.0.0"], check=True, capture_output=True)
    subprocess.run([*uv, "uninstall", *python, "emt-devtool"], check=True, capture_output=True)
    result = envman(project, "doctor", "--json")
    assert result.exit_code == Exit.UNHEALTHY
    checks = {(f["check"], f["problem"].split()[0]) for f in json.loads(result.stdout)["findings"]}
    assert ("undeclared", "emt-extra==0.5.0") in checks
    assert ("version", "emt-core") in checks
    assert ("missing", "emt-devtool==3.1.0") in checks
    assert any(check == "conflicts" for check, _ in checks)

    fixed = envman(project, "doctor", "--fix", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["remaining"] == []
    installed = _installed(envman, project)
    assert installed["emt-core"] == "1.0.0"
    assert "emt-extra" not in installed

    # Spec edited by hand: the lock is now older than the spec; --fix re-locks and syncs.
    spec_path.write_text(spec_path.read_text().replace('"emt-app>=1.0"',
                                                       '"emt-app>=1.0", "emt-plot"'))
    stale = envman(project, "doctor", "--json")
    assert stale.exit_code == Exit.UNHEALTHY
    assert {f["check"] for f in json.loads(stale.stdout)["findings"]} == {"lock", "missing"}
    assert envman(project, "doctor", "--fix").exit_code == 0
    assert "emt-plot" in _installed(envman, project)


@pytest.mark.points(5)
@pytest.mark.hidden
def test_doctor_interpreter_problems(project: Path, envman: Invoke) -> None:
    spec_path = write_spec(project, "uv")
    assert envman(project, "create").exit_code == 0
    spec_path.write_text(spec_path.read_text().replace(f'python = "{PY}"', 'python = "3.99"'))
    wrong = envman(project, "doctor", "--json")
    assert wrong.exit_code == Exit.UNHEALTHY
    problems = [f["problem"] for f in json.loads(wrong.stdout)["findings"]]
    assert any("asks for 3.99" in p for p in problems)
    spec_path.write_text(spec_path.read_text().replace('python = "3.99"', f'python = "{PY}"'))

    (project / ".venv/bin/python").unlink()  # interpreter gone: a corrupt env
    listed = envman(project, "list")
    assert listed.exit_code == Exit.CORRUPT_ENV
    assert listed.stderr.count("\n") == 1
    broken = envman(project, "doctor")
    assert broken.exit_code == Exit.UNHEALTHY
    assert "interpreter" in broken.stdout
    assert envman(project, "doctor", "--fix").exit_code == 0
    assert envman(project, "list").exit_code == 0


@pytest.mark.points(4)
def test_info_run_clean(project: Path, envman: Invoke) -> None:
    write_spec(project, "uv", extra='[env]\nGREETING = "hi"\n')
    assert envman(project, "create").exit_code == 0
    info = json.loads(envman(project, "info", "--json").stdout)
    assert info["backend"] == "uv"
    assert info["python"].startswith(PY)
    assert info["packages"] == 4
    assert info["size_bytes"] > 10_000
    assert info["lock_stale"] is False

    script = "import os, sys, emt_app; print(emt_app.hello(), os.environ['GREETING']); sys.exit(3)"
    run = subprocess.run([str(Path(sys.executable).parent / "envman"), "-C", str(project),
                          "run", "--", "python", "-c", script],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 3, run.stderr
    assert run.stdout.strip() == "hello from emt-app hi"

    cleaned = envman(project, "clean")
    assert cleaned.exit_code == 0
    assert not (project / ".venv").exists()
    assert (project / ".envman/uv.lock").exists()
    assert envman(project, "clean", "--locks").exit_code == 0
    assert not (project / ".envman").exists()


@pytest.mark.points(5)
def test_subprocess_init_create_export(project: Path, tmp_path: Path) -> None:
    """The installed console script end to end, as a user runs it."""
    exe = str(Path(sys.executable).parent / "envman")
    (project / "requirements.txt").write_text("emt-app>=1.0\n")
    (project / "requirements-dev.txt").write_text("emt-devtool\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, "-C", str(project), *args], capture_output=True, text=True,
                              check=False)

    init = run("init", "--backend", "uv", "--python", PY)
    assert init.returncode == 0, init.stderr
    assert "imported from requirements-dev.txt, requirements.txt" in init.stdout
    again = run("init")
    assert again.returncode == Exit.CONFLICT
    assert run("create").returncode == 0
    export = run("export", "--format", "dockerfile")
    assert export.returncode == 0, export.stderr
    assert (project / "requirements.txt").read_text() == "emt-app>=1.0\n"  # input kept
    shipped = (project / "requirements.lock.txt").read_text()
    assert parse_pins(shipped) == {"emt-app": "1.0.0", "emt-core": "1.0.0", "emt-utils": "1.0.0"}
    assert shipped.count("--hash=sha256:") == 3
    hadolint = Path(sys.executable).parent / "hadolint"
    lint = subprocess.run([str(hadolint), str(project / "Dockerfile")], capture_output=True,
                          text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for fmt, name in (("compose", "docker-compose.yml"),
                      ("devcontainer", ".devcontainer/devcontainer.json")):
        assert run("export", "--format", fmt).returncode == 0
        assert (project / name).is_file()
