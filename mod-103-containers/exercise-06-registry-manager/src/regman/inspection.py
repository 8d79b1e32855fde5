"""`regman inspect`: what an image is (digest, config, layers, size, created, labels, platforms)."""

from __future__ import annotations

import json
from typing import Any

from regman.adapters.registry import RegistryClient
from regman.oci import Manifest
from regman.reference import Reference


def image_config(client: RegistryClient, repository: str, manifest: Manifest) -> dict[str, Any]:
    """The parsed config blob of an image manifest ({} for artifacts without JSON config)."""
    descriptor = manifest.config
    if descriptor is None or descriptor.size > 4 * 1024 * 1024:
        return {}
    try:
        data: Any = json.loads(client.get_blob(repository, descriptor.digest))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def describe_manifest(client: RegistryClient, repository: str,
                      manifest: Manifest) -> dict[str, Any]:
    """Summary of one image manifest; `size` = manifest + config + compressed layers."""
    config = image_config(client, repository, manifest)
    cfg_desc = manifest.config
    layers = manifest.layers
    size = len(manifest.raw) + (cfg_desc.size if cfg_desc else 0) + sum(x.size for x in layers)
    return {
        "digest": manifest.digest,
        "media_type": manifest.media_type,
        "config": cfg_desc.to_json() if cfg_desc else None,
        "created": config.get("created"),
        "architecture": config.get("architecture"),
        "os": config.get("os"),
        "labels": (config.get("config") or {}).get("Labels") or {},
        "layers": [layer.to_json() for layer in layers],
        "size": size,
    }


def inspect_image(client: RegistryClient, ref: Reference) -> dict[str, Any]:
    """Everything `regman inspect` shows, as JSON-ready data."""
    manifest = client.get_manifest(ref.repository, ref.identifier)
    if not manifest.is_index:
        return {"reference": str(ref), "kind": "image",
                **describe_manifest(client, ref.repository, manifest)}
    platforms = []
    total = len(manifest.raw)
    for child in manifest.children:
        child_manifest = client.get_manifest(ref.repository, child.digest)
        details = describe_manifest(client, ref.repository, child_manifest)
        platform = child.platform or {}
        platforms.append({
            "os": platform.get("os", details.get("os")),
            "architecture": platform.get("architecture", details.get("architecture")),
            "variant": platform.get("variant"),
            "digest": child.digest,
            "size": details["size"],
            "created": details["created"],
        })
        total += int(details["size"])
    return {"reference": str(ref), "kind": "index", "digest": manifest.digest,
            "media_type": manifest.media_type, "platforms": platforms, "size": total}
