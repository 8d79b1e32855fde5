from pathlib import Path

import pytest

from envman.adapters import containers
from envman.adapters.base import parse_pins
from envman.adapters.conda import create_command, find_conda, remove_command
from envman.errors import Exit, ToolUnavailableError


@pytest.mark.points(4)
def test_conda_commands() -> None:
    cmd = create_command("/opt/conda/bin/mamba", Path("/p/.conda-env"), "3.11")
    assert cmd == ["/opt/conda/bin/mamba", "create", "--yes", "--quiet", "--prefix",
                   "/p/.conda-env", "--channel", "conda-forge", "--override-channels",
                   "python=3.11", "pip"]
    assert remove_command("conda", Path("/e")) == ["conda", "env", "remove", "--yes",
                                                   "--prefix", "/e"]


def _fake_tool(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.mark.points(3)
@pytest.mark.hidden
def test_find_conda_prefers_micromamba_then_fails(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CONDA_EXE", raising=False)
    with pytest.raises(ToolUnavailableError) as err:
        find_conda()
    assert err.value.exit_code == Exit.TOOL_UNAVAILABLE
    _fake_tool(tmp_path, "conda")
    micromamba = _fake_tool(tmp_path, "micromamba")
    assert find_conda() == str(micromamba)
    with pytest.raises(ToolUnavailableError, match="conda_exe 'nope' not found"):
        find_conda("nope")


@pytest.mark.points(3)
def test_no_container_engine_is_said_plainly(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    with pytest.raises(ToolUnavailableError, match="neither docker nor buildah"):
        containers.detect_engine()
    _fake_tool(tmp_path, "buildah")
    engine = containers.detect_engine()
    assert engine.name == "buildah"
    assert engine.build_command(Path("/ctx"), "demo:1")[:4] == [
        str(tmp_path / "buildah"), "build", "--isolation", "chroot"]


@pytest.mark.points(4)
@pytest.mark.hidden
def test_parse_pins_skips_comments_and_markers() -> None:
    text = ("emt-app==1.0.0 \\\n    --hash=sha256:abc\n# comment\n"
            "Emt_Core==2.0 ; python_version >= '3'\n-e .\n")
    assert parse_pins(text) == {"emt-app": "1.0.0", "emt-core": "2.0"}
