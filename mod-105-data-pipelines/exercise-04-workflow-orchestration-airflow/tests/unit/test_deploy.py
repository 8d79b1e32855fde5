"""Deployment files stay consistent with the lock: constraints, compose, Helm values."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from tests.conftest import EXERCISE

DEPLOY = EXERCISE / "deploy"


def _locked() -> dict[str, set[str]]:
    lock = tomllib.loads((EXERCISE / "uv.lock").read_text())
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        if "version" in package:
            versions.setdefault(package["name"].lower(), set()).add(package["version"])
    return versions


@pytest.mark.points(1)
def test_constraints_file_matches_uv_lock() -> None:
    locked = _locked()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", (DEPLOY / "constraints-airflow-3.3.2.txt")
                      .read_text(), flags=re.M)
    assert len(pins) > 100
    names = {name.lower().replace("_", "-") for name, _ in pins}
    assert {"apache-airflow", "apache-airflow-providers-cncf-kubernetes", "pandera"} <= names
    for name, version in pins:
        assert version in locked[name.lower().replace("_", "-")], f"{name}=={version} is stale"
    # no local path or editable install may leak from the lock into the constraints file
    assert not re.search(r"file://|\s@\s*/|^-e ", (DEPLOY / "constraints-airflow-3.3.2.txt")
                         .read_text(), flags=re.M)


@pytest.mark.points(1)
def test_compose_and_helm_pin_the_locked_airflow() -> None:
    (airflow_version,) = _locked()["apache-airflow"]
    dockerfile = (DEPLOY / "Dockerfile.airflow").read_text()
    assert f"FROM apache/airflow:{airflow_version}-python3.11" in dockerfile
    compose = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer"} <= set(services)
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    assert values["airflowVersion"] == airflow_version
    assert values["postgresql"]["enabled"] is False and values["data"]["metadataSecretName"]
    assert values["dags"]["gitSync"]["subPath"].endswith("/dags")
