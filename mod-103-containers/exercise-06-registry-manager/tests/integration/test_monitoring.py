"""The exporter runs as a real process, a real Prometheus scrapes it; alert rules pass
promtool's unit tests; the dashboard only uses metrics the exporter really exports."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiinfra_shared.procs.services import OciRegistry
from aiinfra_shared.testing import prom

from regman.adapters.registry import RegistryClient
from regman.exporter import METRIC_NAMES
from regman.images import push_image
from regman.reference import Reference
from regman.signing import generate_key_pair, load_private_key, sign_image

from .conftest import invoke, require_tool, sample_image

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.points(6)
def test_exporter_scraped_by_prometheus(oci_registry_factory: Callable[[], OciRegistry],
                                        prometheus_factory: Callable[..., Any],
                                        service_process: Callable[..., Any],
                                        free_port: int, tmp_path: Path,
                                        wait_for: Callable[..., Any]) -> None:
    registry = oci_registry_factory()
    with RegistryClient(registry.url) as client:
        for i in (1, 2, 3):
            push_image(client, "prod/api", f"v{i}", sample_image(500 + i))
        private, public = generate_key_pair("pw")
        (tmp_path / "k.key").write_bytes(private)
        (tmp_path / "k.pub").write_bytes(public)
        sign_image(client, Reference(registry.host, "prod/api", "v1"),
                   load_private_key(tmp_path / "k.key", "pw"))
        forger, _ = generate_key_pair("pw")  # a .sig tag from a key no policy lists
        (tmp_path / "forger.key").write_bytes(forger)
        sign_image(client, Reference(registry.host, "prod/api", "v2"),
                   load_private_key(tmp_path / "forger.key", "pw"))
    (tmp_path / "signing-policy.yaml").write_text(
        "rules:\n  - repositories: 'prod/*'\n    keys: [k.pub]\n")
    mirror = oci_registry_factory()
    (tmp_path / "replication.yaml").write_text(
        f"registries:\n  a: {{url: '{registry.url}'}}\n  b: {{url: '{mirror.url}'}}\n"
        "rules:\n  - {name: prod-mirror, source: a, destination: b, repositories: 'prod/*'}\n")
    state = str(tmp_path / "state")
    env = {"REGMAN_STATE_DIR": state}
    assert invoke(["replicate", "run", "--config", str(tmp_path / "replication.yaml")],
                  env=env).exit_code == 0
    with RegistryClient(registry.url) as client:  # one more push: mirror is now behind
        push_image(client, "prod/api", "v4", sample_image(504))
    exe = Path(sys.executable).parent / "regman"
    service_process(
        "regman-exporter",
        [str(exe), "--registry", registry.url, "exporter", "--port", str(free_port),
         "--replication", str(tmp_path / "replication.yaml")],
        env={"REGMAN_STATE_DIR": state, "REGMAN_EXPORTER_CACHE_SECONDS": "0",
             "REGMAN_SIGNING_POLICY": str(tmp_path / "signing-policy.yaml")},
        ready_http=f"http://127.0.0.1:{free_port}/metrics")
    text = httpx.get(f"http://127.0.0.1:{free_port}/metrics", timeout=30).text
    labels = f'registry="{registry.host}",repository="prod/api"'
    assert f"regman_tags{{{labels}}} 4.0" in text
    assert f"regman_signed_ratio{{{labels}}} 0.25" in text  # v2's forged .sig does not count
    assert 'regman_replication_pending_images{rule="prod-mirror"} 1.0' in text
    for name in METRIC_NAMES:  # every documented family is exported
        assert f"# HELP {name} " in text, name

    prometheus = prometheus_factory({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [{"job_name": "regman", "scrape_timeout": "1s",
                            "static_configs": [{"targets": [f"127.0.0.1:{free_port}"]}]}],
    }, rule_files={"alerts.yml": (DEPLOY / "alerts.yml").read_text().replace(
        "for: 5m", "for: 0m")})
    assert prometheus.wait_for_targets_up(timeout=60)
    unsigned = wait_for(lambda: prometheus.query(
        'regman_unsigned_images{repository="prod/api",protected="true"}'), timeout=60)
    assert float(unsigned[0]["value"][1]) == 3.0
    bytes_series = prometheus.query('regman_repository_bytes{repository="prod/api"}')
    assert float(bytes_series[0]["value"][1]) > 64 * 1024  # shared base counted once
    assert float(bytes_series[0]["value"][1]) < 2 * 64 * 1024 + 64 * 1024
    alerts = wait_for(lambda: [a for a in prometheus.alerts()
                               if a["labels"]["alertname"] == "UnsignedImageInProtectedRepository"
                               and a["state"] == "firing"], timeout=60)
    assert alerts[0]["labels"]["repository"] == "prod/api"


@pytest.mark.points(1)
def test_alert_rules_pass_promtool() -> None:
    prom.check_rules(DEPLOY / "alerts.yml")
    prom.rule_tests_pass("alerts_test.yml", cwd=DEPLOY)


@pytest.mark.points(1)
def test_dashboard_uses_only_exported_metrics() -> None:
    exprs = [q.expr for q in prom.dashboard_queries(DEPLOY / "grafana-dashboard.json")]
    used = {m for e in exprs for m in re.findall(r"regman_[a-z_]+", e)}
    assert used and used <= set(METRIC_NAMES)
    assert set(re.findall(r"regman_[a-z_]+", (DEPLOY / "alerts.yml").read_text())) <= set(
        METRIC_NAMES)


@pytest.mark.points(2)
def test_distribution_config_from_deploy_starts(tmp_path: Path,
                                                service_process: Callable[..., Any],
                                                free_port: int) -> None:
    import yaml

    config = yaml.safe_load((DEPLOY / "registry-config.yml").read_text())
    config["storage"]["filesystem"]["rootdirectory"] = str(tmp_path / "storage")
    config["auth"]["htpasswd"]["path"] = str(tmp_path / "htpasswd")
    (tmp_path / "htpasswd").write_text("")
    config["http"]["addr"] = f"127.0.0.1:{free_port}"
    config["http"]["debug"]["addr"] = "127.0.0.1:0"
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    binary = require_tool("docker-registry")
    service_process("deploy-registry", [binary, "serve", str(tmp_path / "config.yml")],
                    ready_tcp=("127.0.0.1", free_port))
    response = httpx.get(f"http://127.0.0.1:{free_port}/v2/", timeout=10)
    assert response.status_code == 401  # htpasswd auth is on
    values = yaml.safe_load((DEPLOY / "harbor-values.yaml").read_text())
    assert values["trivy"]["enabled"] is True
    robots = json.loads((DEPLOY / "harbor-robots.json").read_text())["robots"]
    assert {r["name"] for r in robots} == {"ci-push", "regman-readonly", "regman-retention"}


@pytest.mark.points(2)
def test_exporter_caches_walks_for_the_ttl_and_reports_durations(
        oci_registry_factory: Callable[[], OciRegistry], service_process: Callable[..., Any],
        free_port: int, tmp_path: Path) -> None:
    registry, mirror = oci_registry_factory(), oci_registry_factory()
    with RegistryClient(registry.url) as client:
        push_image(client, "cache/api", "v1", sample_image(601))
    (tmp_path / "replication.yaml").write_text(
        f"registries:\n  a: {{url: '{registry.url}'}}\n  b: {{url: '{mirror.url}'}}\n"
        "rules:\n  - {name: cache-mirror, source: a, destination: b, "
        "repositories: 'cache/*'}\n")
    env = {"REGMAN_STATE_DIR": str(tmp_path / "state"),
           "REGMAN_EXPORTER_CACHE_SECONDS": "3600"}
    assert invoke(["replicate", "run", "--config", str(tmp_path / "replication.yaml")],
                  env=env).exit_code == 0
    exe = Path(sys.executable).parent / "regman"
    metrics = f"http://127.0.0.1:{free_port}/metrics"
    service_process("regman-exporter-cache",
                    [str(exe), "--registry", registry.url, "exporter", "--port",
                     str(free_port), "--replication", str(tmp_path / "replication.yaml")],
                    env=env, ready_http=metrics)
    first = httpx.get(metrics, timeout=30).text
    with RegistryClient(registry.url) as client:  # changes inside the TTL are not walked
        push_image(client, "cache/api", "v2", sample_image(602))
    second = httpx.get(metrics, timeout=30).text
    for text in (first, second):
        assert 'regman_replication_pending_images{rule="cache-mirror"} 0.0' in text
        assert f'regman_tags{{registry="{registry.host}",repository="cache/api"}} 1.0' in text
        assert re.search(r"^regman_scrape_duration_seconds \d", text, re.M), text
        assert re.search(r"^regman_walk_duration_seconds \d", text, re.M)
        age = re.search(r"^regman_cache_age_seconds (\S+)", text, re.M)
        assert age is not None and 0 <= float(age.group(1)) < 3600
