"""Validate rendered manifests against the schemas of the versions we target.

* built-in kinds (HPA autoscaling/v2, ConfigMap): `kubernetes-validate`, strict (unknown
  fields are errors), Kubernetes 1.31 schemas;
* KEDA ScaledObject: the pydantic models of KEDA 2.16's CRD (`cloudcoil-models-keda`); a
  field the model does not know is dropped by pydantic, so the input must survive a round
  trip unchanged;
* VPA, Karpenter NodePool, prometheus-adapter config: JSON schemas in `schemas/`, transcribed
  from the upstream CRD / config struct of the pinned version (see each file's `$comment`);
  none of these is on PyPI.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema
import yaml

KUBERNETES_VERSION = "1.31"
SCHEMAS = {
    ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"): "vpa-v1.schema.json",
    ("karpenter.sh/v1", "NodePool"): "nodepool-v1.schema.json",
}
ADAPTER_SCHEMA = "prometheus-adapter-config.schema.json"


@cache
def schema(name: str) -> dict[str, Any]:
    text = importlib.resources.files("autoscale").joinpath(f"schemas/{name}").read_text()
    return dict(json.loads(text))


def _json_schema_errors(doc: Any, name: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema(name))
    problems = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "<root>"
        problems.append(f"{where}: {error.message}")
    return problems


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _keda_errors(doc: Mapping[str, Any]) -> list[str]:
    # BEGIN SOLUTION
    from cloudcoil.models.keda.v1alpha1 import ScaledObject
    from pydantic import ValidationError

    try:
        model = ScaledObject.model_validate(dict(doc))
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    dumped = _strip_none(model.model_dump(by_alias=True, exclude_unset=True))
    problems: list[str] = []

    def diff(want: Any, got: Any, where: str) -> None:
        if isinstance(want, dict) and isinstance(got, dict):
            for key, value in want.items():
                if key not in got:
                    problems.append(f"{where}{key}: unknown field in KEDA 2.16's ScaledObject")
                else:
                    diff(value, got[key], f"{where}{key}.")
        elif isinstance(want, list) and isinstance(got, list):
            for index, (a, b) in enumerate(zip(want, got, strict=False)):
                diff(a, b, f"{where}{index}.")
        elif want != got and str(want) != str(got):
            problems.append(f"{where.rstrip('.')}: {want!r} became {got!r}")

    spec = {k: v for k, v in doc.items() if k != "metadata"}
    diff(spec, {k: v for k, v in dumped.items() if k != "metadata"}, "")
    return problems
    # END SOLUTION


def errors(doc: Mapping[str, Any]) -> list[str]:
    """Problems with one manifest ([] when valid)."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if (api_version, kind) in SCHEMAS:
        return _json_schema_errors(dict(doc), SCHEMAS[(str(api_version), str(kind))])
    if (api_version, kind) == ("keda.sh/v1alpha1", "ScaledObject"):
        return _keda_errors(doc)
    problems: list[str] = []
    if (api_version, kind) == ("v1", "ConfigMap") and "config.yaml" in doc.get("data", {}):
        config = yaml.safe_load(doc["data"]["config.yaml"])
        problems += [f"data.config.yaml: {p}" for p in adapter_errors(config)]
    import kubernetes_validate

    try:
        kubernetes_validate.validate(dict(doc), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "<root>"
        problems.append(f"{path}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError:
        problems.append(f"no schema for {api_version} {kind} in Kubernetes {KUBERNETES_VERSION}")
    return problems


def adapter_errors(config: Any) -> list[str]:
    return _json_schema_errors(config, ADAPTER_SCHEMA)


def validate_files(files: Mapping[str, str]) -> dict[str, list[str]]:
    """Problems per rendered YAML manifest (kustomizations and flags are not manifests)."""
    found: dict[str, list[str]] = {}
    for path, text in files.items():
        if not path.endswith(".yaml") or path.endswith("kustomization.yaml"):
            continue
        for doc in yaml.safe_load_all(text):
            problems = errors(doc)
            if problems:
                found.setdefault(path, []).extend(problems)
    return found
