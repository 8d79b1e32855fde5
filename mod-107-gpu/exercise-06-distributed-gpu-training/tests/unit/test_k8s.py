"""Manifests: the rendered PyTorchJob/RayJob validate; each negative example fails."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from disttrain import k8s
from tests.helpers import cli

NEGATIVE = Path(__file__).parent.parent / "data" / "negative"


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return k8s.render(k8s.JobSpec(nodes_min=2, nodes_max=4, gpus_per_node=8), "steps: 5\n")


@pytest.mark.points(3)
def test_rendered_manifests_validate(docs: list[dict]) -> None:
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "ConfigMap", "PyTorchJob",
                                        "RayJob"]
    assert k8s.validate_all(docs) == []


@pytest.mark.points(2)
def test_pytorchjob_is_elastic_with_nccl_shm_pvc_and_gpus(docs: list[dict]) -> None:
    job = docs[2]["spec"]
    assert job["elasticPolicy"] == {"rdzvBackend": "c10d", "minReplicas": 2, "maxReplicas": 4,
                                    "maxRestarts": 3, "nProcPerNode": 8}
    pod = job["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
    assert volumes["checkpoints"]["persistentVolumeClaim"]["claimName"] == \
        docs[0]["metadata"]["name"]
    container = pod["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "8"
    assert {"NCCL_SOCKET_IFNAME", "TORCH_NCCL_ASYNC_ERROR_HANDLING"} <= \
        {e["name"] for e in container["env"]}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"


@pytest.mark.points(1)
@pytest.mark.parametrize("path", sorted(NEGATIVE.glob("*.yaml")), ids=lambda p: p.stem)
def test_negative_examples_fail(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    expected = doc["metadata"]["annotations"]["expect-error"]
    errors = k8s.validate(doc)
    assert errors, f"{path.name} validated but must not"
    assert any(expected in e for e in errors), errors


@pytest.mark.points(1)
def test_negative_examples_exist_for_both_schemas() -> None:
    kinds = {yaml.safe_load(p.read_text())["kind"] for p in NEGATIVE.glob("*.yaml")}
    assert kinds == {"PyTorchJob", "RayJob"}


@pytest.mark.points(1)
def test_manifests_and_validate_commands(tmp_path: Path) -> None:
    result = cli("manifests", "--out", str(tmp_path), "--nodes", "1:2")
    assert result.returncode == 0, result.stderr
    written = tmp_path / "disttrain.yaml"
    assert cli("validate", str(written)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(written.read_text().replace("rdzvBackend: c10d", "rdzvBackend: zookeeper"))
    result = cli("validate", str(bad))
    assert result.returncode == 3 and "rdzvBackend" in result.stderr
