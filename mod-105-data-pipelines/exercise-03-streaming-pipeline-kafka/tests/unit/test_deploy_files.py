"""docker-compose (Compose Specification schema) and Kubernetes manifests (API schemas)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from streamml.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _settings_from_env(env: dict[str, str]) -> Settings:
    """Build Settings from STREAMML_* variables: a typo'd key fails (extra=forbid)."""
    import os

    saved = dict(os.environ)
    try:
        os.environ.update({k: str(v) for k, v in env.items() if k.startswith("STREAMML_")})
        return Settings.load()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.points(2)
def test_compose_file_matches_the_compose_spec_and_its_settings_load() -> None:
    exe = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(exe), "--builtin-schema", "vendor.compose-spec",
                             str(DEPLOY / "docker-compose.yml")], capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    for name in ("validate", "features", "score"):
        settings = _settings_from_env(compose["services"][name]["environment"])
        assert settings.kafka.bootstrap_servers == "kafka:9092"


@pytest.mark.points(2)
def test_kubernetes_manifests_validate_and_workers_get_stable_instance_ids() -> None:
    docs: list[dict[str, Any]] = list(yaml.safe_load_all((DEPLOY / "k8s" /
                                                          "streamml.yaml").read_text()))
    for doc in docs:
        kubernetes_validate.validate(doc, "1.31", strict=True)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("StatefulSet", "validate"), ("StatefulSet", "score")} <= kinds
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    _settings_from_env(config)
    for doc in docs:
        if doc["kind"] != "StatefulSet" or doc["metadata"]["name"] == "features":
            continue
        env = doc["spec"]["template"]["spec"]["containers"][0]["env"]
        ids = [e for e in env if e["name"].endswith("__INSTANCE_ID")]
        assert ids and ids[0]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
