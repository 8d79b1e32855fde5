"""Every template end to end: generated, its own venv (uv) and tests, served by uvicorn over
HTTP on loopback, and its Dockerfile, manifests and workflow checked by the real linters."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.testing.plugin import require_or_skip

from mlscaffold.adapters.project_env import subprocess_env

from .conftest import TEMPLATES, Generated

pytestmark = pytest.mark.integration


def _tool(name: str) -> str:
    return require_or_skip(lambda: require_binary(name, "uv sync installs it (dev group)"))


@pytest.mark.points(3)
@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_generated_test_suite_passes(generated: Callable[[str], Generated],
                                     template: str) -> None:
    project = generated(template)
    assert project.suite.returncode == 0, project.suite.stdout[-4000:]
    assert " passed" in project.suite.stdout and " failed" not in project.suite.stdout


@pytest.mark.points(1)
@pytest.mark.parametrize("template", TEMPLATES)
def test_new_writes_uv_lock_and_ci_installs_uv(generated: Callable[[str], Generated],
                                               template: str) -> None:
    """The Dockerfile and CI run `uv sync --locked`: the lock must come with the project, and
    every CI job that calls uv must install it first (the generated suite checks it too)."""
    project = generated(template)
    lock = project.path / "uv.lock"
    assert lock.is_file()
    assert f'name = "{project.path.name}"' in lock.read_text()
    result = project.run("pytest", "-q", "-p", "no:cacheprovider", "tests/test_platform.py",
                         "-k", "uv_lock or ci_job")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout


@pytest.mark.hidden
@pytest.mark.points(1)
@pytest.mark.parametrize("template", TEMPLATES)
def test_generated_code_is_ruff_clean(generated: Callable[[str], Generated],
                                      template: str) -> None:
    result = generated(template).run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout


def _start(project: Generated, service_process, free_port_factory: Callable[[], int],
           tmp_path: Path) -> str:
    env = {**subprocess_env(), "APP_LOG_JSON": "true"}
    if project.template == "sklearn":
        model = tmp_path / "model.joblib"
    elif project.template == "pytorch":
        model = tmp_path / "model.pt"
    else:
        model = None
    if model is not None:
        trained = project.run("python", "scripts/train.py", "--out", str(model))
        assert trained.returncode == 0, trained.stderr
        env["APP_MODEL_PATH"] = str(model)
    else:
        stub_port = free_port_factory()
        service_process("upstream-stub", [project.python, "-m", "uvicorn", "upstream_stub:app",
                                          "--app-dir", "scripts", "--host", "127.0.0.1",
                                          "--port", str(stub_port)],
                        cwd=project.path, env=env,
                        ready_http=f"http://127.0.0.1:{stub_port}/v1/models")
        env["APP_UPSTREAM_URL"] = f"http://127.0.0.1:{stub_port}/v1"
    port = free_port_factory()
    service_process(project.template, [project.python, "-m", "uvicorn",
                                       f"{project.package}.main:create_app", "--factory",
                                       "--host", "127.0.0.1", "--port", str(port)],
                    cwd=project.path, env=env, timeout=90,
                    ready_http=f"http://127.0.0.1:{port}/health")
    return f"http://127.0.0.1:{port}"


PAYLOADS = {
    "sklearn": {"features": [6.7, 3.1, 5.6, 2.4]},
    "pytorch": {"inputs": [[0.25] * 16, [0.5] * 16]},
    "llm-gateway": {"prompt": "ping"},
}


@pytest.mark.points(4)
@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_served_by_uvicorn_over_http(generated: Callable[[str], Generated], template: str,
                                     service_process, tmp_path: Path) -> None:
    from aiinfra_shared.procs.ports import free_port

    base = _start(generated(template), service_process, free_port, tmp_path)
    with httpx.Client(base_url=base, timeout=30) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        response = client.post("/predict", json=PAYLOADS[template])
        assert response.status_code == 200, response.text
        body = response.json()
        if template == "sklearn":
            assert body["label"] == "virginica"
        elif template == "pytorch":
            assert len(body["outputs"]) == 2 and len(body["outputs"][0]) == 4
        else:
            assert body["text"] == "echo: ping"
        invalid = client.post("/predict", json={"nope": 1})
        assert invalid.status_code == 422 and invalid.json()["error"] == "validation_error"
        info = client.get("/info").json()
        assert info["template"] == template
        metrics = client.get("/metrics").text
        assert 'route="/predict",status="200"' in metrics
        assert "model_predictions_total" in metrics


@pytest.mark.points(1)
@pytest.mark.parametrize("template", TEMPLATES)
def test_dockerfile_passes_hadolint(generated: Callable[[str], Generated],
                                    template: str) -> None:
    hadolint = _tool("hadolint")
    project = generated(template)
    import subprocess

    result = subprocess.run([hadolint, "--failure-threshold", "info", "Dockerfile"],
                            cwd=project.path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.points(1)
@pytest.mark.parametrize("template", TEMPLATES)
def test_manifests_pass_kubernetes_validate(generated: Callable[[str], Generated],
                                            template: str) -> None:
    import subprocess

    validator = _tool("kubernetes-validate")
    manifests = sorted(str(p) for p in (generated(template).path / "k8s").glob("*.yaml"))
    assert len(manifests) == 3
    result = subprocess.run([validator, "--strict", "-k", "1.31.0", *manifests],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).count(" passed for resource ") == 3


@pytest.mark.points(1)
@pytest.mark.parametrize("template", TEMPLATES)
def test_workflow_passes_actionlint(generated: Callable[[str], Generated],
                                    template: str) -> None:
    import subprocess

    actionlint = _tool("actionlint")
    project = generated(template)
    result = subprocess.run([actionlint, ".github/workflows/ci.yml"], cwd=project.path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.points(1)
@pytest.mark.parametrize("template", TEMPLATES)
def test_validate_command_accepts_generated_project(generated: Callable[[str], Generated],
                                                    template: str) -> None:
    import subprocess

    exe = Path(sys.executable).parent / "mlscaffold"
    result = subprocess.run([str(exe), "validate", str(generated(template).path), "--json"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["ok"] is True


@pytest.mark.points(4)
def test_validate_runs_the_app_and_its_tests(generated: Callable[[str], Generated]) -> None:
    """validate proves the service works, not just that strings occur in its files."""
    import subprocess

    exe = str(Path(sys.executable).parent / "mlscaffold")
    project = generated("sklearn")

    def validate() -> tuple[int, dict[str, tuple[bool, str]]]:
        result = subprocess.run([exe, "validate", str(project.path), "--json"],
                                env=subprocess_env(), capture_output=True, text=True,
                                check=False)
        checks = {c["check"]: (c["ok"], c["detail"])
                  for c in json.loads(result.stdout)["checks"]}
        return result.returncode, checks

    code, checks = validate()
    assert code == 0, checks
    for name in ("app imports", "openapi schema valid", "/health answers",
                 "project tests pass", "ci installs uv"):
        assert checks[name][0], (name, checks[name])
    assert "passed" in checks["project tests pass"][1]

    main = project.path / "src" / project.package / "main.py"
    original = main.read_text()
    broken_test = project.path / "tests" / "test_zz_broken.py"
    try:
        broken_test.write_text("def test_broken() -> None:\n    assert 1 == 2\n")
        code, checks = validate()
        assert code == 1
        assert checks["app imports"][0] and not checks["project tests pass"][0]
        assert "1 failed" in checks["project tests pass"][1]
        broken_test.unlink()
        main.write_text(original + "\nraise RuntimeError('broken at import')\n")
        code, checks = validate()
        assert code == 1
        assert not checks["app imports"][0]
        assert "broken at import" in checks["app imports"][1]
    finally:
        main.write_text(original)
        broken_test.unlink(missing_ok=True)
