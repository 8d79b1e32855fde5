"""Validate rendered manifests against the schemas of the APIs that would receive them.

- Kubernetes built-ins (Namespace, Service, Deployment...): `kubernetes-validate` (the
  OpenAPI schemas of a Kubernetes release, strict: unknown fields are errors).
- Istio CRDs: `cloudcoil-models-istio` (pydantic models generated from Istio 1.24's CRDs).
  Those models ignore unknown keys, so a key the model does not know is reported here too:
  a misspelt `perTryTimout` would otherwise pass silently.
- Linkerd and Gateway API: the minimal JSON schemas shipped in `meshobs/schemas/`
  (no such models are on PyPI), transcribed from the upstream CRDs of the pinned versions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

KUBERNETES_VERSION = "1.30.0"

Manifest = dict[str, Any]


def _istio_models() -> dict[tuple[str, str], Any]:
    # Imported lazily: the generated models take ~1.5 s to import.
    from cloudcoil.models.istio.networking.v1 import DestinationRule, VirtualService
    from cloudcoil.models.istio.security.v1 import AuthorizationPolicy, PeerAuthentication
    from cloudcoil.models.istio.telemetry.v1 import Telemetry

    return {("networking.istio.io/v1", "DestinationRule"): DestinationRule,
            ("networking.istio.io/v1", "VirtualService"): VirtualService,
            ("security.istio.io/v1", "PeerAuthentication"): PeerAuthentication,
            ("security.istio.io/v1", "AuthorizationPolicy"): AuthorizationPolicy,
            ("telemetry.istio.io/v1", "Telemetry"): Telemetry}


@cache
def shipped_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> JSON schema, from the package's `schemas/` folder."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in resources.files("meshobs.schemas").iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text())
            props = schema["properties"]
            out[(props["apiVersion"]["const"], props["kind"]["const"])] = schema
    return out


def unknown_keys(given: Any, known: Any, path: str = "") -> list[str]:
    """Keys present in `given` but absent from `known` (the model's own dump), recursively."""
    # BEGIN SOLUTION
    found: list[str] = []
    if isinstance(given, dict) and isinstance(known, dict):
        for key, value in given.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in known:
                found.append(where)
            else:
                found += unknown_keys(value, known[key], where)
    elif isinstance(given, list) and isinstance(known, list):
        for index, (item, other) in enumerate(zip(given, known, strict=False)):
            found += unknown_keys(item, other, f"{path}[{index}]")
    return found
    # END SOLUTION


def _describe(manifest: Manifest) -> str:
    name = (manifest.get("metadata") or {}).get("name", "?")
    return f"{manifest.get('kind', '?')}/{name}"


def validate_manifest(manifest: Manifest) -> list[str]:
    """Problems with one manifest ([] when valid), each prefixed with kind/name."""
    # BEGIN SOLUTION
    from pydantic import ValidationError

    key = (str(manifest.get("apiVersion", "")), str(manifest.get("kind", "")))
    who = _describe(manifest)
    istio = _istio_models()
    if key in istio:
        try:
            model = istio[key].model_validate(manifest)
        except ValidationError as exc:
            return [f"{who}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                    for err in exc.errors()]
        dumped = model.model_dump(by_alias=True, exclude_none=True, mode="json")
        return [f"{who}: {path}: unknown field" for path in unknown_keys(manifest, dumped)]
    schemas = shipped_schemas()
    if key in schemas:
        validator = jsonschema.Draft202012Validator(schemas[key])
        return [f"{who}: {'.'.join(str(p) for p in err.absolute_path) or '<root>'}: "
                f"{err.message}"
                for err in sorted(validator.iter_errors(manifest), key=lambda e: e.path)]
    import kubernetes_validate

    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path) or "<root>"
        return [f"{who}: {where}: {exc.message}"]
    except (kubernetes_validate.SchemaNotFoundError,
            kubernetes_validate.InvalidSchemaError) as exc:
        return [f"{who}: no schema for {key[0]} {key[1]} ({exc})"]
    return []
    # END SOLUTION


def validate_all(manifests: Iterable[Manifest]) -> list[str]:
    problems: list[str] = []
    for manifest in manifests:
        problems += validate_manifest(manifest)
    return problems
