import json

import pytest
import yaml

from envman.adapters.base import parse_pins
from envman.export import DOCKERIGNORE, compose, devcontainer, environment_yml, render
from envman.spec import parse_spec
from envman.target import parse_hashes

SPEC = parse_spec("""[project]
name = "demo"
python = "3.12.4"
backend = "uv"
dependencies = ["emt-app"]

[env]
MODEL_DIR = "/models"
""", "x")
PINS = {"emt-app": "1.0.0", "emt-core": "1.0.0"}


@pytest.mark.points(4)
def test_conda_environment_from_lock() -> None:
    doc = yaml.safe_load(environment_yml(SPEC, PINS))
    assert doc["name"] == "demo"
    assert doc["channels"] == ["conda-forge"]
    assert doc["dependencies"][:2] == ["python=3.12", "pip"]
    assert doc["dependencies"][2] == {"pip": ["emt-app==1.0.0", "emt-core==1.0.0"]}
    assert doc["variables"] == {"MODEL_DIR": "/models"}


@pytest.mark.points(5)
def test_dockerfile_is_multistage_non_root_with_env() -> None:
    files = render("dockerfile", SPEC, PINS)
    assert set(files) == {"Dockerfile", ".dockerignore", "requirements.lock.txt"}
    text = files["Dockerfile"]
    assert text.count("FROM python:3.12-slim-bookworm") == 2
    assert "COPY --from=build /opt/venv /opt/venv" in text
    assert "USER 10001" in text
    assert 'MODEL_DIR="/models"' in text
    pinned = files["requirements.lock.txt"].splitlines()[1:]
    assert pinned == ["emt-app==1.0.0", "emt-core==1.0.0"]
    assert ".venv" in DOCKERIGNORE.splitlines()


@pytest.mark.points(2)
def test_hashed_export_requires_hashes() -> None:
    hashes = {"emt-app": ["sha256:" + "a" * 64], "emt-core": ["sha256:" + "b" * 64]}
    files = render("dockerfile", SPEC, PINS, hashes, "linux/arm64")
    lock = files["requirements.lock.txt"]
    assert "resolved for linux/arm64" in lock.splitlines()[0]
    assert parse_hashes(lock) == hashes
    assert parse_pins(lock) == PINS
    assert "pip install --no-cache-dir --no-deps --require-hashes -r" in files["Dockerfile"]
    assert "docker build --platform linux/arm64" in files["Dockerfile"]


@pytest.mark.points(3)
def test_compose_and_devcontainer() -> None:
    doc = yaml.safe_load(compose(SPEC))
    service = doc["services"]["demo"]
    assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert service["environment"] == {"MODEL_DIR": "/models"}
    dev = json.loads(devcontainer(SPEC))
    assert dev["build"]["dockerfile"] == "../Dockerfile"
    assert dev["remoteUser"] == "app"
