"""The CLI surface: help with examples, one-line errors with documented exit codes, config."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import invoke, read_json


@pytest.mark.points(1)
def test_help_shows_examples_and_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "gpuopt"
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert "Examples:" in proc.stdout and "gpuopt tune --workload cnn" in proc.stdout
    for command in ("profile", "analyze", "tune", "diff", "batch-size", "tf"):
        assert command in proc.stdout


@pytest.mark.points(2)
@pytest.mark.parametrize(("args", "code", "needle"), [
    (["profile", "--workload", "resnet9000"], 4, "unknown workload 'resnet9000'"),
    (["profile", "--workload", "cnn", "--recipe", "turbo"], 4, "unknown recipe 'turbo'"),
    (["profile", "--workload", "cnn", "--recipe", "amp-fp16"], 5, "needs a CUDA device"),
    (["profile", "--workload", "cnn", "--recipe", "compile-cudagraphs"], 5, "CUDA"),
    (["profile", "--workload", "llama", "--recipe", "channels-last"], 5, "no convolutions"),
    (["profile", "--workload", "tests.helpers:not_a_workload"], 4, "did not return"),
    (["profile", "--workload", "no_such_module_x:f"], 4, "cannot import"),
])
def test_bad_input_is_one_line_with_its_exit_code_and_writes_nothing(
        tmp_path: Path, args: list[str], code: int, needle: str) -> None:
    out = tmp_path / "run"
    result = invoke(*args, "--out", str(out))
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: ") and needle in lines[-1]
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.points(2)
@pytest.mark.hidden
def test_compile_without_a_compiler_is_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no g++ / clang++ on it
    result = invoke("tune", "--workload", "cnn", "--recipes", "compile",
                    "--out", str(tmp_path / "t"))
    assert result.exit_code == 5
    assert "needs a C++ compiler" in result.output
    assert not (tmp_path / "t").exists()


@pytest.mark.points(2)
def test_truncated_trace_is_rejected_without_a_report(
        tmp_path: Path, profiled: Callable[..., Path]) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(profiled("cnn"), run)
    (run / "analysis.json").unlink(missing_ok=True)
    trace = run / "trace" / "gpuopt.pt.trace.json"
    trace.write_text(trace.read_text()[: trace.stat().st_size // 2])
    result = invoke("analyze", str(run))
    assert result.exit_code == 3
    assert "truncated or not JSON" in result.output.splitlines()[-1]
    assert not (run / "analysis.json").exists()


@pytest.mark.points(1)
@pytest.mark.hidden
def test_foreign_trace_is_rejected(tmp_path: Path, profiled: Callable[..., Path]) -> None:
    import json
    import shutil

    run = tmp_path / "run"
    shutil.copytree(profiled("cnn"), run)
    trace = run / "trace" / "gpuopt.pt.trace.json"
    trace.write_text(json.dumps({"traceEvents": [{"name": "aten::mm", "ph": "X", "ts": 1,
                                                  "dur": 2, "pid": 1, "tid": 1}]}))
    result = invoke("analyze", str(run))
    assert result.exit_code == 3 and "foreign trace" in result.output
    missing = invoke("analyze", str(tmp_path / "nope"))
    assert missing.exit_code == 3 and "no such run directory" in missing.output


@pytest.mark.points(2)
def test_settings_from_config_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "gpuopt.yaml"
    config.write_text("workload: from-the-file\nthreads: 1\n")
    result = invoke("--config", str(config), "profile", "--out", str(tmp_path / "r"))
    assert result.exit_code == 4 and "'from-the-file'" in result.output  # the file was read
    result = invoke("--config", str(config), "profile", "--out", str(tmp_path / "r"),
                    env={"GPUOPT_WORKLOAD": "from-env"})
    assert result.exit_code == 4 and "'from-env'" in result.output  # env beats the file
    result = invoke("profile", env={"GPUOPT_THREADS": "0"})
    assert result.exit_code == 3 and "threads" in result.output


@pytest.mark.points(2)
def test_user_workload_by_module_function(tmp_path: Path) -> None:
    out = tmp_path / "mlp"
    result = invoke("profile", "--workload", "tests.helpers:tiny_mlp", "--active", "2",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    run = read_json(out / "run.json")
    assert run["workload"] == "tiny-mlp" and run["batch_size"] == 16
    assert len(run["steps"]) == 4 and (out / "key_averages.txt").read_text().strip()
    listing = invoke("workloads", "--json")
    assert listing.exit_code == 0
    import json

    data = {w["workload"]: w for w in json.loads(listing.output)["workloads"]}
    assert set(data) == {"cnn", "llama", "databound"}
    assert "channels-last" in data["cnn"]["recipes"]
    assert "channels-last" not in data["llama"]["recipes"]  # no convolutions
    assert "amp-fp16" not in data["cnn"]["recipes"]  # CPU: no GradScaler path
