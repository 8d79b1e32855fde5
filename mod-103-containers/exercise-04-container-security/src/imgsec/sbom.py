"""SBOMs: CycloneDX 1.6 (cyclonedx-python-lib, strict schema validation) and SPDX 2.3
(spdx-tools model and validator). Both carry the layer of each package and mark shadowed
packages, which other scanners leave out (trivy#3924).

Documents are deterministic for one image (serial number and namespace derive from the
image id; `created` is the image's creation time when known), so the SBOM of an image is
the same whether it came from a docker-archive, an OCI layout or a registry.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from imgsec import __version__
from imgsec.catalog.inventory import Inventory
from imgsec.errors import ImgsecError
from imgsec.model import Image

NAMESPACE = uuid.UUID("6f1b8a54-4f7e-4a4e-9a39-1c1d3e7e0a11")


class SbomValidationError(ImgsecError):
    """We produced a document its own schema rejects: a bug, never shown as a valid SBOM."""

    exit_code = 70


def _created(image: Image) -> datetime:
    stamps = sorted(h.created for h in image.history if h.created)
    if stamps:
        try:
            return datetime.fromisoformat(stamps[-1].replace("Z", "+00:00")).replace(
                microsecond=0)
        except ValueError:
            pass
    return datetime(1970, 1, 1, tzinfo=UTC)


def cyclonedx_json(image: Image, inventory: Inventory) -> str:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from packageurl import PackageURL

    bom = Bom(serial_number=uuid.uuid5(NAMESPACE, image.image_id or image.name))
    bom.metadata.timestamp = _created(image)
    root = Component(type=ComponentType.CONTAINER, name=image.name,
                     version=image.image_id or None, bom_ref=image.image_id or image.name)
    bom.metadata.component = root
    for package in inventory.packages:
        properties = [Property(name="imgsec:layer", value=package.layer_digest),
                      Property(name="imgsec:path", value=package.path)]
        if package.shadowed:
            properties.append(Property(name="imgsec:shadowed", value="true"))
        bom.components.add(Component(
            type=ComponentType.LIBRARY if package.type in ("pypi", "npm")
            else ComponentType.APPLICATION, name=package.name, version=package.version,
            group=package.namespace if package.type == "npm" and package.namespace else None,
            purl=PackageURL.from_string(package.purl), bom_ref=package.purl,
            properties=properties))
    bom.register_dependency(root, list(bom.components))
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise SbomValidationError(f"generated CycloneDX does not validate: {error}")
    return text


def spdx_json(image: Image, inventory: Inventory) -> str:
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.package import (
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
    )
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    ident = image.image_id or image.name
    creation = CreationInfo(
        spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT", name=image.name,
        document_namespace=f"https://imgsec.invalid/spdx/{uuid.uuid5(NAMESPACE, ident)}",
        creators=[Actor(ActorType.TOOL, f"imgsec-{__version__}")], created=_created(image))
    root_id = "SPDXRef-image"
    packages = [Package(spdx_id=root_id, name=image.name, download_location=SpdxNoAssertion(),
                        version=image.image_id or None, files_analyzed=False,
                        primary_package_purpose=None)]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, root_id)]
    for n, package in enumerate(inventory.packages):
        spdx_id = f"SPDXRef-{package.type}-{n}"
        packages.append(Package(
            spdx_id=spdx_id, name=package.name, download_location=SpdxNoAssertion(),
            version=package.version, files_analyzed=False,
            comment=f"layer {package.layer_digest}" + (" (shadowed: removed by a later "
                                                       "layer)" if package.shadowed else ""),
            external_references=[ExternalPackageRef(
                ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", package.purl)]))
        relationships.append(Relationship(root_id, RelationshipType.CONTAINS, spdx_id))
    document = Document(creation, packages=packages, relationships=relationships)
    messages = validate_full_spdx_document(document)
    if messages:
        raise SbomValidationError(f"generated SPDX does not validate: "
                                  f"{messages[0].validation_message}")
    stream = io.StringIO()
    write_document_to_stream(document, stream, validate=False)
    return stream.getvalue()


def components(text: str) -> list[dict[str, Any]]:
    """The package list of a CycloneDX document, for comparing SBOMs of one image."""
    payload = json.loads(text)
    return sorted(({"purl": c.get("purl"), "layer": next(
        (p["value"] for p in c.get("properties", []) if p["name"] == "imgsec:layer"), "")}
        for c in payload.get("components", [])), key=lambda c: str(c["purl"]))
