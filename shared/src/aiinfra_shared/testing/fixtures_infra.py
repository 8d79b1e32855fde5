"""Fixtures for infrastructure tooling: terraform (offline, optionally against moto), a
Kubernetes API emulator and an OCI image builder (registered by the last lines of `plugin.py`).

The runtime parts live in `aiinfra_shared.procs.terraform` and `aiinfra_shared.procs.images`
(no pytest), so an exercise's own CLI can use them; the Kubernetes emulator is test-only
(`aiinfra_shared.testing.k8s`, needs the `k8s` extra) and is imported only when its fixture
runs, so exercises without kmock still load this plugin.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.images import BuiltImage, ImageBuilder, find_static_busybox
from aiinfra_shared.procs.services import MotoServer
from aiinfra_shared.procs.terraform import Terraform
from aiinfra_shared.testing.plugin import require_or_skip

if TYPE_CHECKING:
    from aiinfra_shared.testing.k8s import K8sApi

__all__ = [
    "SAMPLE_CONTAINERFILE",
    "k8s_api",
    "oci_image_builder",
    "oci_sample_image",
    "terraform",
    "terraform_factory",
    "terraform_moto",
]


# --------------------------------------------------------------------------- terraform


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    """terraform with the provider mirror, offline: `.init(dir)`, `.test(dir)`, `.plan(dir)`,
    `.apply(dir)`, `.show_json(dir)`, `.output_json(dir)`, `.run(*args, cwd=dir)`."""
    work_dir = tmp_path_factory.mktemp("terraform")
    return require_or_skip(lambda: Terraform.create(work_dir))


@pytest.fixture(scope="session")
def terraform_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Terraform]:
    """Factory: `terraform_factory(hosts=..., credentials=..., extra_config=..., env=...,
    direct=..., timeout=...)` -> a runner with its own CLI config (e.g. a private registry)."""

    def make(**kwargs: Any) -> Terraform:
        work_dir = tmp_path_factory.mktemp("terraform")
        return require_or_skip(lambda: Terraform.create(work_dir, **kwargs))

    return make


@pytest.fixture
def terraform_moto(terraform: Terraform, moto_server: MotoServer) -> Terraform:
    """`terraform` with AWS_ENDPOINT_URL and test keys aimed at the session's moto server
    (the provider block still needs `moto_provider_hcl()`'s skip_* and path-style flags)."""
    return terraform.with_moto(moto_server.endpoint_url, moto_server.region)


# --------------------------------------------------------------------------- Kubernetes API


def _import_k8s() -> ModuleType:
    try:
        import aiinfra_shared.testing.k8s as k8s
    except ImportError as exc:
        raise MissingBinaryError("kmock", "install the extra aiinfra-shared[k8s]") from exc
    return k8s


def _point_kubernetes_client_at(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kubernetes client reads $KUBECONFIG once, at import: if a test module imported it
    already, its remembered default location is redirected too."""
    for name in ("kubernetes.config.kube_config", "kubernetes.config"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "KUBE_CONFIG_DEFAULT_LOCATION"):
            monkeypatch.setattr(module, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))


@pytest.fixture
def k8s_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[K8sApi]:
    """A fresh Kubernetes API emulator per test, with $KUBECONFIG pointing at it.

    `.declare(group, version, plural, kind)`, `.declare_crd(manifest)`, `.requests`,
    `.writes()`, `.get(resource, ns, name)`, `.seed(...)`, `.client()`, `.emulator` (kmock).
    """
    k8s = require_or_skip(_import_k8s)
    api: K8sApi = k8s.start_k8s_api(tmp_path / "k8s-api")
    monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig))
    _point_kubernetes_client_at(api.kubeconfig, monkeypatch)
    yield api
    api.stop()


# --------------------------------------------------------------------------- OCI images

SAMPLE_CONTAINERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY app/ /app/
RUN echo "built by buildah" > /app/BUILD && chmod 0755 /app/run.sh
ENV APP_HOME=/app
CMD ["/bin/sh", "/app/run.sh"]
"""


def _make_builder(work_dir: Path) -> ImageBuilder:
    builder = ImageBuilder(work_dir)
    find_static_busybox()  # RUN steps need it: a missing one is a skip/CI failure up front
    return builder


@pytest.fixture(scope="session")
def oci_image_builder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageBuilder]:
    """buildah (chroot, vfs, --layers) with private storage; `.build(containerfile, context)`
    -> BuiltImage (docker-archive, OCI layout), cached per session; `.push(image, host, repo)`."""
    builder = require_or_skip(lambda: _make_builder(tmp_path_factory.mktemp("images")))
    yield builder
    builder.cleanup()


@pytest.fixture(scope="session")
def oci_sample_image(oci_image_builder: ImageBuilder) -> BuiltImage:
    """A small multi-layer image (busybox, /app/run.sh, a RUN step, ENV, CMD)."""
    return oci_image_builder.build(
        SAMPLE_CONTAINERFILE,
        {"app/run.sh": "#!/bin/sh\necho hello from the sample image\n",
         "app/config.yaml": "greeting: hello\n"},
        reference="localhost/aiinfra/sample:1.0",
    )
