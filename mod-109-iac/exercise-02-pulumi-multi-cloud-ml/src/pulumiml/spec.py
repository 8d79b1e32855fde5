"""The typed platform spec, read from a `Pulumi.<cloud>-<env>.yaml` stack file.

One file per cloud and environment holds the whole platform (`pulumiml:platform`); the four
layer stacks of that cloud/env (`aws-dev-network`, `aws-dev-data`, `aws-dev-ml`,
`aws-dev-serving`) each read the sections they need. Bad values are a `SpecError` with one
line per field, before any program runs.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from aiinfra_shared.config import ConfigError, format_validation_error, read_config_file
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pulumiml.errors import SpecError, UnknownStackError

PROJECT = "pulumiml"
CONFIG_KEY = f"{PROJECT}:platform"
POLICY_KEY = f"{PROJECT}:policy"
REFERENCES_KEY = f"{PROJECT}:references"


class Cloud(StrEnum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


class Env(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Layer(StrEnum):
    NETWORK = "network"
    DATA = "data"
    ML = "ml"
    SERVING = "serving"


#: Which layers each layer reads through a StackReference (network -> data -> ml -> serving).
LAYER_REFERENCES: dict[Layer, tuple[Layer, ...]] = {
    Layer.NETWORK: (),
    Layer.DATA: (Layer.NETWORK,),
    Layer.ML: (Layer.NETWORK, Layer.DATA),
    Layer.SERVING: (Layer.NETWORK, Layer.ML),
}

#: Which spec sections each layer's program reads (a change elsewhere leaves it untouched).
LAYER_SECTIONS: dict[Layer, tuple[str, ...]] = {
    Layer.NETWORK: ("cloud", "env", "region", "network", "tags"),
    Layer.DATA: ("cloud", "env", "region", "buckets", "retention", "tags"),
    Layer.ML: ("cloud", "env", "region", "registry", "training", "tags"),
    Layer.SERVING: ("cloud", "env", "region", "serving", "tags"),
}

#: Generic GPU names -> the instance/accelerator each cloud uses for training nodes.
GPU_TYPES: dict[str, dict[Cloud, str]] = {
    "t4": {Cloud.AWS: "g4dn.xlarge", Cloud.GCP: "nvidia-tesla-t4",
           Cloud.AZURE: "Standard_NC4as_T4_v3"},
    "a10g": {Cloud.AWS: "g5.xlarge", Cloud.GCP: "nvidia-l4", Cloud.AZURE: "Standard_NV6ads_A10_v5"},
    "l4": {Cloud.AWS: "g6.xlarge", Cloud.GCP: "nvidia-l4", Cloud.AZURE: "Standard_NV6ads_A10_v5"},
    "a100": {Cloud.AWS: "p4d.24xlarge", Cloud.GCP: "nvidia-tesla-a100",
             Cloud.AZURE: "Standard_NC24ads_A100_v4"},
    "h100": {Cloud.AWS: "p5.48xlarge", Cloud.GCP: "nvidia-h100-80gb",
             Cloud.AZURE: "Standard_NC40ads_H100_v5"},
}

_SERVING_PATTERNS: dict[Cloud, re.Pattern[str]] = {
    Cloud.AWS: re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$"),
    Cloud.GCP: re.compile(r"^[a-z][a-z0-9]*-[a-z]+(-[0-9]+)?$"),
    Cloud.AZURE: re.compile(r"^Standard_[A-Za-z0-9_]+$"),
}
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,20}[a-z0-9]$")
_TAG_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSpec(_Strict):
    cidr: str = "10.20.0.0/16"
    private_subnets: int = Field(default=2, ge=1, le=6)
    private_endpoints: bool = False

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        # BEGIN SOLUTION
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"not an IPv4 network in CIDR form ({exc})") from None
        if not 16 <= network.prefixlen <= 24:
            raise ValueError("prefix length must be between /16 and /24")
        if not network.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        return value
        # END SOLUTION


class BucketSpec(_Strict):
    name: str
    retention_days: int = Field(default=90, ge=1, le=3650)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("3-22 characters: lower-case letters, digits and '-'")
        return value


class RegistrySpec(_Strict):
    name: str = "models"
    immutable_tags: bool = True
    scan_on_push: bool = True


class TrainingSpec(_Strict):
    gpu_type: str = "t4"
    gpu_count: int = Field(default=1, ge=1, le=8)
    spot: bool = True
    max_nodes: int = Field(default=2, ge=0, le=64)

    @field_validator("gpu_type")
    @classmethod
    def _gpu(cls, value: str) -> str:
        if value not in GPU_TYPES:
            raise ValueError(f"unknown GPU type; one of {', '.join(GPU_TYPES)}")
        return value


class ServingSpec(_Strict):
    instance_type: str
    min_replicas: int = Field(default=1, ge=0, le=100)
    max_replicas: int = Field(default=2, ge=1, le=100)

    @model_validator(mode="after")
    def _replicas(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is above max_replicas "
                             f"({self.max_replicas})")
        return self


class RetentionSpec(_Strict):
    key_deletion_days: int = Field(default=7, ge=7, le=30)
    keep_on_destroy: bool = False


class PlatformSpec(_Strict):
    """Everything one cloud/env of the ML platform needs."""

    cloud: Cloud
    env: Env
    region: str
    #: AWS account id, GCP project id or Azure subscription/tenant id.
    account: str = "pulumiml-sandbox"
    network: NetworkSpec = NetworkSpec()
    buckets: tuple[BucketSpec, ...] = (BucketSpec(name="data"), BucketSpec(name="models"))
    registry: RegistrySpec = RegistrySpec()
    training: TrainingSpec = TrainingSpec()
    serving: ServingSpec
    tags: dict[str, str] = Field(default_factory=dict)
    retention: RetentionSpec = RetentionSpec()

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.match(r"^[a-z]+[a-z0-9-]*[0-9a-z]$", value):
            raise ValueError("a cloud region name such as us-east-1, europe-west4 or westeurope")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [key for key in value if not _TAG_KEY.match(key)]
        if bad:
            raise ValueError(f"tag keys must be lower-case words (bad: {', '.join(bad)})")
        return value

    @model_validator(mode="after")
    def _cloud_specific(self) -> Self:
        # BEGIN SOLUTION
        pattern = _SERVING_PATTERNS[self.cloud]
        if not pattern.match(self.serving.instance_type):
            raise ValueError(f"serving.instance_type {self.serving.instance_type!r} is not a "
                             f"{self.cloud.value} instance type")
        names = [bucket.name for bucket in self.buckets]
        if len(set(names)) != len(names):
            raise ValueError(f"bucket names repeat: {', '.join(names)}")
        if not names:
            raise ValueError("at least one bucket is needed")
        return self
        # END SOLUTION

    def section(self, name: str) -> Any:
        """A section as plain JSON data (used to decide which layers a change touches)."""
        return self.model_dump(mode="json")[name]


@dataclass(frozen=True, order=True)
class StackName:
    """`<cloud>-<env>-<layer>`: one Pulumi stack of the `pulumiml` project."""

    cloud: Cloud
    env: Env
    layer: Layer

    def __str__(self) -> str:
        return f"{self.cloud.value}-{self.env.value}-{self.layer.value}"

    @property
    def spec_stack(self) -> str:
        """The stack file holding this stack's spec: `Pulumi.<cloud>-<env>.yaml`."""
        return f"{self.cloud.value}-{self.env.value}"

    @property
    def references(self) -> tuple[StackName, ...]:
        """The stacks this one reads through `StackReference`."""
        return tuple(StackName(self.cloud, self.env, up) for up in LAYER_REFERENCES[self.layer])

    def fully_qualified(self, organization: str = "organization") -> str:
        """The name a `StackReference` uses (`organization` is the file backend's org)."""
        return f"{organization}/{PROJECT}/{self}"

    @classmethod
    def parse(cls, text: str) -> StackName:
        # BEGIN SOLUTION
        parts = text.strip().split("/")[-1].split("-")
        if len(parts) != 3:
            raise UnknownStackError(f"stack {text!r}: expected <cloud>-<env>-<layer>, "
                                    "e.g. aws-dev-network")
        cloud, env, layer = parts
        for value, enum in ((cloud, Cloud), (env, Env), (layer, Layer)):
            if value not in {member.value for member in enum}:
                choices = ", ".join(member.value for member in enum)
                raise UnknownStackError(f"stack {text!r}: unknown {enum.__name__.lower()} "
                                        f"{value!r} (one of {choices})")
        return cls(Cloud(cloud), Env(env), Layer(layer))
        # END SOLUTION


def resource_name(spec: PlatformSpec, component: str) -> str:
    """Naming convention: `mlp-<env>-<component>` (cloud-unique names get a suffix later)."""
    return f"mlp-{spec.env.value}-{component}"


def standard_tags(spec: PlatformSpec, layer: Layer) -> dict[str, str]:
    """Tagging convention: the spec's tags plus who/what/where (cost reports group by these)."""
    # BEGIN SOLUTION
    tags = dict(spec.tags)
    tags.update({"project": PROJECT, "env": spec.env.value, "layer": layer.value,
                 "managed-by": "pulumi"})
    return tags
    # END SOLUTION


@dataclass(frozen=True)
class StackFile:
    """A parsed `Pulumi.<cloud>-<env>.yaml`: the spec and the per-stack policy config."""

    path: Path
    spec: PlatformSpec
    policy: dict[str, Any]
    #: Extra StackReferences per layer (e.g. a serving layer reading another cloud's data).
    references: dict[Layer, tuple[StackName, ...]] = field(default_factory=dict)


def parse_stack_file(path: Path, data: dict[str, Any] | None = None) -> StackFile:
    """Validate a stack file; `data` instead of reading (used for a base revision)."""
    # BEGIN SOLUTION
    if data is None:
        try:
            data = read_config_file(path)
        except ConfigError as exc:
            raise SpecError(str(exc)) from exc
    config = data.get("config")
    if not isinstance(config, dict) or CONFIG_KEY not in config:
        raise SpecError(f"{path}: config.{CONFIG_KEY}: missing (the platform spec)")
    try:
        spec = PlatformSpec.model_validate(config[CONFIG_KEY])
    except ValidationError as exc:
        text = format_validation_error(exc, f"{path}: {CONFIG_KEY}")
        raise SpecError(text) from exc
    expected = f"Pulumi.{spec.cloud.value}-{spec.env.value}.yaml"
    if path.name != expected:
        raise SpecError(f"{path}: cloud/env say {spec.cloud.value}-{spec.env.value}: the file "
                        f"must be named {expected}")
    policy = config.get(POLICY_KEY, {})
    if not isinstance(policy, dict):
        raise SpecError(f"{path}: config.{POLICY_KEY}: must be a mapping of policy -> config")
    raw_refs = config.get(REFERENCES_KEY, {})
    if not isinstance(raw_refs, dict):
        raise SpecError(f"{path}: config.{REFERENCES_KEY}: must map a layer to stack names")
    references: dict[Layer, tuple[StackName, ...]] = {}
    for layer_name, names in raw_refs.items():
        if layer_name not in {layer.value for layer in Layer}:
            raise SpecError(f"{path}: config.{REFERENCES_KEY}.{layer_name}: unknown layer")
        if not isinstance(names, list):
            raise SpecError(f"{path}: config.{REFERENCES_KEY}.{layer_name}: must be a list")
        try:
            references[Layer(layer_name)] = tuple(StackName.parse(str(n)) for n in names)
        except UnknownStackError as exc:
            raise SpecError(f"{path}: config.{REFERENCES_KEY}.{layer_name}: {exc}") from exc
    return StackFile(path, spec, policy, references)
    # END SOLUTION
