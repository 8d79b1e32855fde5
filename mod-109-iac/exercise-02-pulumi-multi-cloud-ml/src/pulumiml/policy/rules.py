"""The guardrails as plain functions over (type, properties) -> list of messages.

`pack.py` wraps them in pulumi-policy `ResourceValidationPolicy` / `StackValidationPolicy`
objects; keeping the checks here keeps them readable and lets the pack stay a thin shell.
Properties arrive as the engine sends them: camelCase wire names (`serverSideEncryption...`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumiml.spec import GPU_TYPES

DEFAULT_REQUIRED_TAGS = ("team", "cost-center")
DEFAULT_ALLOWED_GPUS = ("t4", "l4", "a10g")

#: Types that carry tags (AWS, Azure) or labels (GCP) and are billed.
TAGGABLE = {
    "aws:ec2/vpc:Vpc", "aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository",
    "aws:iam/role:Role", "aws:sagemaker/model:Model",
    "aws:batch/computeEnvironment:ComputeEnvironment",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint",
    "gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository",
    "gcp:vertex/aiEndpoint:AiEndpoint", "gcp:compute/instanceTemplate:InstanceTemplate",
    "gcp:kms/cryptoKey:CryptoKey",
    "azure-native:resources:ResourceGroup", "azure-native:storage:StorageAccount",
    "azure-native:keyvault:Vault", "azure-native:containerregistry:Registry",
    "azure-native:machinelearningservices:Workspace",
    "azure-native:machinelearningservices:Compute",
    "azure-native:machinelearningservices:OnlineEndpoint",
}

_AWS_SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:"
            "BucketServerSideEncryptionConfiguration")
_OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
_CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
_PRIMITIVE_GCP_ROLES = {"roles/owner", "roles/editor"}


def _get(props: Mapping[str, Any], *path: str) -> Any:
    value: Any = props
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def encryption(type_: str, props: Mapping[str, Any]) -> list[str]:
    """Data at rest is encrypted with a customer-managed key."""
    # BEGIN SOLUTION
    problems = []
    if type_ == _AWS_SSE:
        rules = props.get("rules") or []
        default = [_get(rule, "applyServerSideEncryptionByDefault") or {} for rule in rules]
        if not default or any(d.get("sseAlgorithm") != "aws:kms" or not d.get("kmsMasterKeyId")
                              for d in default):
            problems.append("S3 encryption must be SSE-KMS with a customer-managed key")
    elif type_ == "aws:kms/key:Key" and not props.get("enableKeyRotation"):
        problems.append("KMS key rotation must be enabled")
    elif type_ == "aws:ecr/repository:Repository":
        configs = props.get("encryptionConfigurations") or []
        if not any(c.get("encryptionType") == "KMS" for c in configs):
            problems.append("ECR repository must be encrypted with KMS")
    elif type_ == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
        if not props.get("kmsKeyArn"):
            problems.append("SageMaker endpoint storage must use a KMS key (kmsKeyArn)")
    elif type_ == "gcp:storage/bucket:Bucket":
        if not _get(props, "encryption", "defaultKmsKeyName"):
            problems.append("GCS bucket must use a CMEK (encryption.defaultKmsKeyName)")
    elif type_ == "gcp:artifactregistry/repository:Repository" and not props.get("kmsKeyName"):
        problems.append("Artifact Registry repository must use a CMEK (kmsKeyName)")
    elif type_ == "gcp:vertex/aiEndpoint:AiEndpoint":
        if not _get(props, "encryptionSpec", "kmsKeyName"):
            problems.append("Vertex AI endpoint must use a CMEK (encryptionSpec)")
    elif type_ == "azure-native:storage:StorageAccount":
        if _get(props, "encryption", "keySource") != "Microsoft.Keyvault":
            problems.append("storage account must be encrypted with a Key Vault key")
        if props.get("enableHttpsTrafficOnly") is False:
            problems.append("storage account must accept HTTPS only")
    return problems
    # END SOLUTION


def public_access(type_: str, props: Mapping[str, Any]) -> list[str]:
    """No bucket, container or storage account is readable by the internet."""
    # BEGIN SOLUTION
    problems = []
    if type_ == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                 "restrictPublicBuckets")
        off = [flag for flag in flags if props.get(flag) is not True]
        if off:
            problems.append(f"public access block must set {', '.join(off)}")
    elif (type_ in ("aws:s3/bucket:Bucket", "aws:s3/bucketAcl:BucketAcl")
          and str(props.get("acl", "")).startswith("public")):
        problems.append(f"bucket ACL {props.get('acl')!r} makes it public")
    elif type_ == "gcp:storage/bucket:Bucket":
        if props.get("publicAccessPrevention") != "enforced":
            problems.append("GCS bucket must enforce public access prevention")
        if props.get("uniformBucketLevelAccess") is not True:
            problems.append("GCS bucket must use uniform bucket-level access")
    elif type_ in ("gcp:storage/bucketIAMMember:BucketIAMMember",
                   "gcp:storage/bucketIAMBinding:BucketIAMBinding"):
        members = [props.get("member"), *(props.get("members") or [])]
        if any(m in ("allUsers", "allAuthenticatedUsers") for m in members):
            problems.append("bucket IAM grants access to allUsers/allAuthenticatedUsers")
    elif type_ == "azure-native:storage:StorageAccount":
        if props.get("allowBlobPublicAccess") is not False:
            problems.append("storage account must set allowBlobPublicAccess: false")
        if props.get("allowSharedKeyAccess") is not False:
            problems.append("storage account must disable shared key access")
    elif (type_ == "azure-native:storage:BlobContainer"
          and props.get("publicAccess") not in (None, "None")):
        problems.append(f"container publicAccess {props.get('publicAccess')!r} is public")
    return problems
    # END SOLUTION


def cost_tags(type_: str, props: Mapping[str, Any], required: Sequence[str]) -> list[str]:
    """Billed resources carry the cost-allocation tags (labels on GCP)."""
    # BEGIN SOLUTION
    if type_ not in TAGGABLE:
        return []
    tags = props.get("labels" if type_.startswith("gcp:") else "tags") or {}
    missing = [key for key in required if not tags.get(key)]
    return [f"missing cost tags: {', '.join(missing)}"] if missing else []
    # END SOLUTION


def _gpu_names(type_: str, props: Mapping[str, Any]) -> list[str]:
    """The generic GPU names a training resource asks for ('?<raw>' when unknown)."""
    reverse: dict[str, str] = {}
    for generic, per_cloud in GPU_TYPES.items():
        for raw in per_cloud.values():
            reverse.setdefault(raw.lower(), generic)
    raws: list[str] = []
    if type_ == "aws:batch/computeEnvironment:ComputeEnvironment":
        raws = list(_get(props, "computeResources", "instanceTypes") or [])
        raws = [r for r in raws if r.split(".")[0][:1] in ("g", "p")]
    elif type_ == "gcp:compute/instanceTemplate:InstanceTemplate":
        raws = [a.get("type", "") for a in props.get("guestAccelerators") or []]
    elif type_ == "azure-native:machinelearningservices:Compute":
        size = _get(props, "properties", "properties", "vmSize")
        raws = [size] if size and str(size).startswith(("Standard_N",)) else []
    return [reverse.get(str(raw).lower(), f"?{raw}") for raw in raws]


def gpu_allow_list(type_: str, props: Mapping[str, Any], allowed: Sequence[str]) -> list[str]:
    """Training compute only uses GPU types allowed for the environment."""
    # BEGIN SOLUTION
    bad = [name for name in _gpu_names(type_, props) if name not in allowed]
    if not bad:
        return []
    shown = ", ".join(name.lstrip("?") + (" (unknown)" if name.startswith("?") else "")
                      for name in bad)
    return [f"GPU type {shown} is not allowed here (allowed: {', '.join(allowed)})"]
    # END SOLUTION


def _actions(statement: Mapping[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def wildcard_iam(type_: str, props: Mapping[str, Any]) -> list[str]:
    """No `*` IAM actions, no primitive or owner roles for workloads."""
    # BEGIN SOLUTION
    if type_ in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
        document = props.get("policy")
        try:
            parsed = json.loads(document) if isinstance(document, str) else document or {}
        except json.JSONDecodeError:
            return ["IAM policy is not valid JSON"]
        statements = parsed.get("Statement", [])
        if isinstance(statements, Mapping):
            statements = [statements]
        wild = sorted({a for s in statements if s.get("Effect", "Allow") == "Allow"
                       for a in _actions(s) if a == "*" or a.endswith(":*")})
        return [f"IAM policy allows wildcard actions: {', '.join(wild)}"] if wild else []
    if type_ in ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding"):
        role = props.get("role")
        return [f"primitive role {role} is too broad"] if role in _PRIMITIVE_GCP_ROLES else []
    if type_ == "azure-native:authorization:RoleAssignment":
        role = str(props.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
        if role in (_OWNER, _CONTRIBUTOR):
            return ["role assignment grants Owner/Contributor: use a narrower built-in role"]
    return []
    # END SOLUTION


def private_networking(type_: str, props: Mapping[str, Any]) -> list[str]:
    """In prod, services are reached over private endpoints only (nothing public)."""
    # BEGIN SOLUTION
    problems = []
    if type_ == "aws:ec2/securityGroup:SecurityGroup":
        for rule in props.get("ingress") or []:
            if "0.0.0.0/0" in (rule.get("cidrBlocks") or []):
                problems.append("security group allows ingress from 0.0.0.0/0")
    elif type_ == "aws:ec2/subnet:Subnet" and props.get("mapPublicIpOnLaunch"):
        problems.append("subnet assigns public IPs")
    elif type_ == "aws:sagemaker/model:Model" and not props.get("vpcConfig"):
        problems.append("SageMaker model must run in the VPC (vpcConfig)")
    elif type_ == "gcp:vertex/aiEndpoint:AiEndpoint":
        if not (_get(props, "privateServiceConnectConfig", "enablePrivateServiceConnect")
                or props.get("network")):
            problems.append("Vertex AI endpoint must be private (Private Service Connect)")
    elif type_ in ("azure-native:storage:StorageAccount", "azure-native:containerregistry:Registry",
                   "azure-native:machinelearningservices:Workspace"):
        if props.get("publicNetworkAccess") != "Disabled":
            problems.append(f"{type_.rsplit(':', 1)[-1]} must disable public network access")
    elif type_ == "azure-native:keyvault:Vault":
        if _get(props, "properties", "publicNetworkAccess") != "Disabled":
            problems.append("Key Vault must disable public network access")
    elif (type_ == "azure-native:machinelearningservices:OnlineEndpoint"
          and _get(props, "properties", "publicNetworkAccess") != "Disabled"):
        problems.append("online endpoint must disable public network access")
    return problems
    # END SOLUTION


StackRow = tuple[str, str, Mapping[str, Any], Mapping[str, Sequence[str]]]


def unversioned_buckets(resources: Iterable[StackRow]) -> list[tuple[str, str]]:
    """(urn, message) for every bucket without versioning, given (urn, type, props, propdeps).

    AWS keeps versioning in a separate `BucketVersioning` resource that points at the bucket
    (by property dependency, or by name); Azure in the account's `BlobServiceProperties`.
    """
    # BEGIN SOLUTION
    resources = list(resources)
    aws_versioned_urns: set[str] = set()
    aws_versioned_names: set[str] = set()
    azure_versioned: set[str] = set()
    for _urn, type_, props, deps in resources:
        if (type_ == "aws:s3/bucketVersioning:BucketVersioning"
                and _get(props, "versioningConfiguration", "status") == "Enabled"):
            aws_versioned_urns.update(deps.get("bucket", []))
            aws_versioned_names.add(str(props.get("bucket")))
        elif (type_ == "azure-native:storage:BlobServiceProperties"
              and props.get("isVersioningEnabled") is True):
            azure_versioned.add(str(props.get("accountName")))
    problems = []
    for urn, type_, props, _deps in resources:
        if type_ == "aws:s3/bucket:Bucket":
            versioned = (urn in aws_versioned_urns or props.get("bucket") in aws_versioned_names
                         or _get(props, "versioning", "enabled") is True)
            if not versioned:
                problems.append((urn, f"bucket {props.get('bucket')} has no versioning"))
        elif type_ == "gcp:storage/bucket:Bucket":
            if _get(props, "versioning", "enabled") is not True:
                problems.append((urn, f"bucket {props.get('name')} has no versioning"))
        elif (type_ == "azure-native:storage:StorageAccount"
              and props.get("accountName") not in azure_versioned):
            problems.append((urn, f"storage account {props.get('accountName')} has no "
                                  "blob versioning"))
    return problems
    # END SOLUTION
