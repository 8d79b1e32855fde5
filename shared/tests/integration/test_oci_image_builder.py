"""The oci_image_builder fixture builds real multi-layer images with buildah (FROM scratch,
busybox for RUN), exports them, pushes them to a real registry and caches by content."""

from __future__ import annotations

import json
import subprocess
import tarfile

import pytest

from aiinfra_shared.procs.images import BuiltImage, ImageBuilder
from aiinfra_shared.procs.services import OciRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONTAINERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY model/ /srv/model/
ARG VERSION=dev
RUN echo "v=$VERSION" > /srv/model/BUILD_INFO && wc -c /srv/model/weights.bin
LABEL org.opencontainers.image.title="shared-test"
CMD ["/bin/sh", "-c", "cat /srv/model/BUILD_INFO"]
"""
CONTEXT = {"model/weights.bin": b"\x00\x01" * 4096, "model/config.json": '{"layers": 2}'}


def _files_in_layers(image: BuiltImage) -> set[str]:
    """Every path in every layer of the docker-archive (layers are tars inside the tar)."""
    names: set[str] = set()
    with tarfile.open(image.docker_archive) as archive:
        for layer in image.archive_manifest()["Layers"]:
            member = archive.extractfile(layer)
            assert member is not None
            with tarfile.open(fileobj=member) as layer_tar:
                names.update(n.lstrip("./") for n in layer_tar.getnames())
    return names


def test_build_export_push_and_cache(oci_image_builder: ImageBuilder,
                                     oci_registry: OciRegistry) -> None:
    builds_before = oci_image_builder.builds
    image = oci_image_builder.build(CONTAINERFILE, CONTEXT, reference="localhost/team/model:1")
    assert oci_image_builder.builds == builds_before + 1

    manifest = image.archive_manifest()
    assert manifest["RepoTags"] == ["localhost/team/model:1"]
    assert image.layer_count >= 3  # busybox COPY, busybox --install, model COPY, RUN
    files = _files_in_layers(image)
    assert {"bin/busybox", "srv/model/weights.bin", "srv/model/BUILD_INFO"} <= files
    assert "bin/sh" in files  # the RUN step ran busybox --install inside the build

    index = json.loads((image.oci_layout / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "1"
    assert (image.oci_layout / "oci-layout").is_file()

    ref = oci_image_builder.push(image, oci_registry.host, "team/model")
    assert ref == f"{oci_registry.host}/team/model:1"
    inspect = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"],
                             capture_output=True, text=True, check=True, timeout=60)
    info = json.loads(inspect.stdout)
    assert info["Digest"] == image.pushed[ref]
    assert len(info["Layers"]) == image.layer_count
    assert info["Labels"]["org.opencontainers.image.title"] == "shared-test"
    assert "team/model" in oci_registry.catalog()

    again = oci_image_builder.build(CONTAINERFILE, dict(CONTEXT),
                                    reference="localhost/team/model:1")
    assert again is image  # same inputs: the cached result, no second buildah run
    assert oci_image_builder.builds == builds_before + 1
    changed = oci_image_builder.build(CONTAINERFILE, {**CONTEXT, "model/config.json": "{}"},
                                      reference="localhost/team/model:1")
    assert changed.key != image.key and oci_image_builder.builds == builds_before + 2


def test_sample_image_is_ready_to_use(oci_sample_image: BuiltImage) -> None:
    assert oci_sample_image.layer_count > 1
    assert "app/BUILD" in _files_in_layers(oci_sample_image)
    assert oci_sample_image.oci_reference.startswith("oci:")
