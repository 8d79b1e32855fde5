"""Bad input through the CLI: one line on stderr, a distinct exit code, nothing changed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from envman.errors import Exit
from tests.conftest import PY, Invoke, write_spec

pytestmark = pytest.mark.integration


@pytest.mark.points(1)
def test_outside_project(isolated: Path, envman: Invoke) -> None:
    result = envman(isolated, "info")
    assert result.exit_code == Exit.NO_PROJECT
    assert result.stderr.startswith("error: no envman.toml in")
    assert "Traceback" not in result.output


@pytest.mark.points(3)
def test_malformed_spec_names_file_line_key(isolated: Path, envman: Invoke) -> None:
    spec = write_spec(isolated, "uv")
    spec.write_text(spec.read_text().replace('backend = "uv"', 'backend = "pipenv"'))
    result = envman(isolated, "create")
    assert result.exit_code == Exit.CONFIG
    assert "envman.toml:4: key project.backend:" in result.stderr
    assert result.stderr.count("\n") == 1
    spec.write_text("[project\nname = 1\n")
    broken = envman(isolated, "list")
    assert broken.exit_code == Exit.CONFIG
    assert "envman.toml:1:" in broken.stderr


@pytest.mark.points(1)
def test_unknown_backend_option(isolated: Path, envman: Invoke) -> None:
    write_spec(isolated, "uv")
    result = envman(isolated, "create", "--backend", "pipenv")
    assert result.exit_code == Exit.USAGE
    assert "pipenv" in result.stderr


@pytest.mark.points(3)
@pytest.mark.hidden
def test_corrupt_venv(project: Path, envman: Invoke) -> None:
    write_spec(project, "uv")
    (project / ".venv" / "bin").mkdir(parents=True)
    result = envman(project, "info")
    assert result.exit_code == Exit.CORRUPT_ENV
    assert "not a virtual or conda environment" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.points(3)
def test_init_imports_pyproject_and_rejects_bad_python(isolated: Path, envman: Invoke) -> None:
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "ml"\nrequires-python = ">=3.12"\ndependencies = ["emt-app"]\n'
        '[dependency-groups]\ndev = ["emt-devtool"]\n')
    bad = envman(isolated, "init", "--python", "eleven")
    assert bad.exit_code == Exit.CONFIG
    assert not (isolated / "envman.toml").exists()
    ok = envman(isolated, "init", "--backend", "poetry")
    assert ok.exit_code == 0, ok.output
    text = (isolated / "envman.toml").read_text()
    assert 'name = "ml"' in text
    assert 'python = "3.12"' in text
    assert 'backend = "poetry"' in text
    assert '"emt-devtool"' in text


@pytest.mark.points(3)
@pytest.mark.hidden
def test_config_show_sources(isolated: Path, envman: Invoke,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    user = isolated.parent / "user-config.toml"
    user.write_text('default-backend = "poetry"\ncache-dir = "/tmp/envman-cache"\n')
    write_spec(isolated, "venv", extra='[settings]\nindex-url = "https://example.org/simple"\n')
    monkeypatch.setenv("ENVMAN_FIND_LINKS", "/srv/wheels")
    result = envman(isolated, "config", "show", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["key"]: (r["value"], r["source"]) for r in json.loads(result.stdout)["settings"]}
    assert rows["default_backend"] == ("poetry", f"user config {user}")
    assert rows["index_url"][0] == "https://example.org/simple"
    assert rows["index_url"][1].endswith("envman.toml [settings]")
    assert rows["find_links"] == ("/srv/wheels", "env ENVMAN_FIND_LINKS")
    assert rows["project.backend"][0] == "venv"
    assert rows["timeout"][1] == "default"


@pytest.mark.points(2)
def test_docker_build_without_engine(project: Path, envman: Invoke,
                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_spec(project, "uv")
    assert envman(project, "lock").exit_code == 0
    empty = tmp_path / "empty-bin"  # no docker, no buildah; Python only (uv needs one)
    empty.mkdir()
    (empty / f"python{PY}").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr("sys.executable", str(empty / "python"))
    result = envman(project, "docker", "build")
    assert result.exit_code == Exit.TOOL_UNAVAILABLE, result.output
    assert "no container engine" in result.stderr
    assert (project / "Dockerfile").is_file()


@pytest.mark.points(3)
@pytest.mark.external(reason="conda/mamba/micromamba cannot be installed here (no conda "
                             "channel reachable)", requires=["conda"])
def test_conda_backend_creates_env(project: Path, envman: Invoke) -> None:
    write_spec(project, "conda")
    result = envman(project, "create")
    assert result.exit_code == 0, result.output
    assert (project / ".conda-env" / "conda-meta").is_dir()
    assert "emt-app" in envman(project, "list").stdout
