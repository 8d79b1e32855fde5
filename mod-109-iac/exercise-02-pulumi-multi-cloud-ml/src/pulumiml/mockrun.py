"""Run a layer program under `pulumi.runtime.set_mocks` and record its resource graph.

No CLI and no provider plugin is involved: the SDK sends its registrations to a mock monitor
in this process. `ProviderMocks` answers like the providers would (ARNs, ARM ids, GCP self
links, registry URLs), deterministically, and serves `StackReference` outputs from the
upstream stacks' outputs; `RecordingMonitor` keeps what the engine would see: type, name,
inputs, parent, dependencies, property dependencies and component outputs.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from pulumiml.errors import NotDeployedError
from pulumiml.program import layer_program
from pulumiml.spec import PROJECT, PlatformSpec, StackName

#: The SDK's runtime settings are process-global: one mocked program at a time.
_RUN_LOCK = threading.Lock()


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _uuid(*parts: str) -> str:
    h = _digest(*parts, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _camel_to_plural(name: str) -> str:
    lowered = name[0].lower() + name[1:]
    return lowered if lowered.endswith("s") else f"{lowered}s"


_AZURE_NAMESPACES = {
    "resources": "Microsoft.Resources", "network": "Microsoft.Network",
    "storage": "Microsoft.Storage", "keyvault": "Microsoft.KeyVault",
    "containerregistry": "Microsoft.ContainerRegistry",
    "managedidentity": "Microsoft.ManagedIdentity",
    "authorization": "Microsoft.Authorization",
    "machinelearningservices": "Microsoft.MachineLearningServices",
}
#: Azure child resources: the input naming the parent, and the parent's ARM type.
_AZURE_PARENTS = {
    "Subnet": ("virtualNetworkName", "virtualNetworks"),
    "Key": ("vaultName", "vaults"),
    "BlobServiceProperties": ("accountName", "storageAccounts"),
    "BlobContainer": ("accountName", "storageAccounts/blobServices/default"),
    "ManagementPolicy": ("accountName", "storageAccounts"),
    "Compute": ("workspaceName", "workspaces"),
    "OnlineEndpoint": ("workspaceName", "workspaces"),
    "OnlineDeployment": ("workspaceName", "workspaces"),
}
_AZURE_TYPE_NAMES = {"UserAssignedIdentity": "userAssignedIdentities",
                     "BlobServiceProperties": "blobServices", "BlobContainer": "containers",
                     "ManagementPolicy": "managementPolicies", "Registry": "registries",
                     "OnlineEndpoint": "onlineEndpoints", "OnlineDeployment": "deployments"}


@dataclass
class ProviderMocks(pulumi_mocks.Mocks):
    """Provider-shaped answers for every resource type the components create."""

    stack: str
    region: str
    account: str
    references: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def aws_account(self) -> str:
        return str(int(_digest(self.account, length=10), 16) % 10**12).zfill(12)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any] | None]:
        return {}, None

    def new_resource(self, args: pulumi_mocks.MockResourceArgs
                     ) -> tuple[str | None, dict[str, Any]]:
        # BEGIN SOLUTION
        inputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(inputs.get("name") or args.name)
            if name not in self.references:
                raise NotDeployedError(f"StackReference {name!r}: that stack has no outputs "
                                       "(preview or deploy it first)")
            return name, {"name": name, "outputs": dict(self.references[name]),
                          "secretOutputNames": []}
        provider = args.typ.split(":", 1)[0]
        if provider == "aws":
            return self._aws(args.typ, args.name, inputs)
        if provider == "gcp":
            return self._gcp(args.typ, args.name, inputs)
        if provider == "azure-native":
            return self._azure(args.typ, args.name, inputs)
        return f"{args.name}-{_digest(self.stack, args.name)}", inputs
        # END SOLUTION

    def _aws(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        service = typ.split(":")[1].split("/")[0]
        kind = typ.rsplit(":", 1)[-1]
        hexid = _digest(self.stack, typ, name, length=17)
        physical = str(inputs.get("name") or inputs.get("bucket") or f"{name}-{hexid[:7]}")
        prefix = {"Vpc": "vpc", "Subnet": "subnet", "SecurityGroup": "sg", "VpcEndpoint": "vpce"}
        state = dict(inputs)
        if kind in prefix:
            resource_id = f"{prefix[kind]}-{hexid}"
            state["arn"] = (f"arn:aws:ec2:{self.region}:{self.aws_account}:"
                            f"{kind.lower()}/{resource_id}")
        elif kind == "Key":
            resource_id = _uuid(self.stack, name)
            state["arn"] = f"arn:aws:kms:{self.region}:{self.aws_account}:key/{resource_id}"
            state["keyId"] = resource_id
        elif kind == "Bucket":
            resource_id = physical
            state.update(bucket=physical, arn=f"arn:aws:s3:::{physical}",
                         bucketRegionalDomainName=f"{physical}.s3.{self.region}.amazonaws.com")
        elif kind == "Repository":
            resource_id = physical
            state.update(name=physical, registryId=self.aws_account,
                         arn=f"arn:aws:ecr:{self.region}:{self.aws_account}:repository/{physical}",
                         repositoryUrl=f"{self.aws_account}.dkr.ecr.{self.region}.amazonaws.com/"
                                       f"{physical}")
        elif kind in ("Role", "RolePolicy"):
            resource_id = physical
            state.update(name=physical, arn=f"arn:aws:iam::{self.aws_account}:role/{physical}")
        else:
            resource_id = physical
            state.setdefault("name", physical)
            state["arn"] = (f"arn:aws:{service}:{self.region}:{self.aws_account}:"
                            f"{re.sub(r'(?<!^)(?=[A-Z])', '-', kind).lower()}/{physical}")
        return resource_id, state

    def _gcp(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kind = typ.rsplit(":", 1)[-1]
        project = str(inputs.get("project") or self.account)
        physical = str(inputs.get("name") or inputs.get("accountId") or inputs.get("repositoryId")
                       or f"{name}-{_digest(self.stack, name, length=6)}")
        region = str(inputs.get("region") or inputs.get("location") or self.region)
        state = dict(inputs, project=project)
        paths = {
            "Network": f"projects/{project}/global/networks/{physical}",
            "Subnetwork": f"projects/{project}/regions/{region}/subnetworks/{physical}",
            "Firewall": f"projects/{project}/global/firewalls/{physical}",
            "KeyRing": f"projects/{project}/locations/{region}/keyRings/{physical}",
            "Repository": f"projects/{project}/locations/{region}/repositories/{physical}",
            "AiEndpoint": f"projects/{project}/locations/{region}/endpoints/{physical}",
            "AiDeploymentResourcePool":
                f"projects/{project}/locations/{region}/deploymentResourcePools/{physical}",
            "InstanceTemplate": f"projects/{project}/global/instanceTemplates/{physical}",
            "Account": f"projects/{project}/serviceAccounts/"
                       f"{physical}@{project}.iam.gserviceaccount.com",
        }
        if kind == "CryptoKey":
            resource_id = f"{inputs.get('keyRing')}/cryptoKeys/{physical}"
        elif kind == "Bucket":
            resource_id = physical
            state.update(url=f"gs://{physical}",
                         selfLink=f"https://www.googleapis.com/storage/v1/b/{physical}")
        elif kind == "IAMMember":
            resource_id = f"{project}/{inputs.get('role')}/{inputs.get('member')}"
        else:
            resource_id = paths.get(kind, f"projects/{project}/{kind.lower()}s/{physical}")
        if kind == "Account":
            state["email"] = f"{physical}@{project}.iam.gserviceaccount.com"
            state["uniqueId"] = str(int(_digest(self.stack, name, length=12), 16))
        state.setdefault("name", physical)
        state.setdefault("selfLink", f"https://www.googleapis.com/compute/v1/{resource_id}")
        return resource_id, state

    def _azure(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        _, module, kind = typ.split(":")
        namespace = _AZURE_NAMESPACES.get(module, f"Microsoft.{module.title()}")
        own_key = next((key for key in inputs if key.lower() == f"{kind.lower()}name"), None)
        name_keys = {"Registry": "registryName", "StorageAccount": "accountName",
                     "Vault": "vaultName", "Key": "keyName", "ResourceGroup": "resourceGroupName",
                     "UserAssignedIdentity": "resourceName", "Compute": "computeName",
                     "OnlineEndpoint": "endpointName", "OnlineDeployment": "deploymentName",
                     "BlobContainer": "containerName", "BlobServiceProperties": "blobServicesName",
                     "ManagementPolicy": "managementPolicyName", "Subnet": "subnetName",
                     "RoleAssignment": "roleAssignmentName"}
        physical = str(inputs.get(name_keys.get(kind, own_key or "")) or
                       (_uuid(self.stack, name) if kind == "RoleAssignment"
                        else f"{name}{_digest(self.stack, name, length=6)}"))
        subscription = f"/subscriptions/{self.account}"
        group = inputs.get("resourceGroupName")
        state = dict(inputs, name=physical)
        if kind == "ResourceGroup":
            resource_id = f"{subscription}/resourceGroups/{physical}"
        elif kind == "RoleAssignment":
            resource_id = f"{inputs.get('scope')}/providers/{namespace}/roleAssignments/{physical}"
        else:
            type_name = _AZURE_TYPE_NAMES.get(kind, _camel_to_plural(kind))
            base = f"{subscription}/resourceGroups/{group}/providers/{namespace}"
            if kind in _AZURE_PARENTS:
                parent_key, parent_type = _AZURE_PARENTS[kind]
                parent = f"{base}/{parent_type}/{inputs.get(parent_key)}"
                if kind == "OnlineDeployment":
                    parent += f"/onlineEndpoints/{inputs.get('endpointName')}"
                resource_id = f"{parent}/{type_name}/{physical}"
            else:
                resource_id = f"{base}/{type_name}/{physical}"
        identity = state.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # Inputs list identity ids; the provider answers a map id -> principal/client ids.
            state["identity"] = dict(identity, userAssignedIdentities={
                uid: {"principalId": _uuid(uid, "principal"), "clientId": _uuid(uid, "client")}
                for uid in identity["userAssignedIdentities"]})
        if kind == "Registry":
            state["loginServer"] = f"{physical}.azurecr.io"
        if kind == "UserAssignedIdentity":
            state["principalId"] = _uuid(self.stack, name, "principal")
            state["clientId"] = _uuid(self.stack, name, "client")
        if kind == "Key":
            state["keyUri"] = f"https://{inputs.get('vaultName')}.vault.azure.net/keys/{physical}"
        state["id"] = resource_id
        return resource_id, state


@dataclass
class Registration:
    """One resource as the engine would record it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    id: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    read: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "name": self.name, "custom": self.custom,
                "parent": self.parent, "dependencies": self.dependencies,
                "propertyDependencies": self.property_dependencies, "inputs": self.inputs,
                "id": self.id, "state": self.state, "outputs": self.outputs, "read": self.read}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping parents, dependencies and component outputs too."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self._by_urn: dict[str, Registration] = {}

    def _record(self, request: Any, urn: str, resource_id: str, custom: bool,
                read: bool) -> None:
        inputs = rpc.deserialize_properties(request.properties if read else request.object)
        registration = Registration(
            urn=urn, type=request.type, name=request.name, custom=custom,
            parent=request.parent, dependencies=list(getattr(request, "dependencies", [])),
            property_dependencies={key: list(value.urns) for key, value in
                                   getattr(request, "propertyDependencies", {}).items()},
            inputs=_plain(inputs), id=resource_id, read=read)
        state = self.resources.get(urn)
        if state is not None:
            registration.state = _plain(state.state)
        self.registrations.append(registration)
        self._by_urn[urn] = registration

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, response.id, bool(request.custom), read=False)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, request.id, True, read=True)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - the gRPC method
        registration = self._by_urn.get(request.urn)
        if registration is not None:
            registration.outputs = _plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _plain(value: Any) -> Any:
    """Deserialised Pulumi values as JSON data (secrets unwrapped, unknowns as None)."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _plain(value.get("value"))
        return {str(k): _plain(v) for k, v in value.items() if k != rpc._special_sig_key}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass
class MockResult:
    """A mocked run of one stack: what it declares and what it outputs."""

    stack: StackName
    registrations: list[Registration]
    outputs: dict[str, Any]

    def graph(self) -> dict[str, Any]:
        return {"stack": str(self.stack), "project": PROJECT,
                "resources": [r.as_dict() for r in self.registrations],
                "outputs": self.outputs}


def run_program(stack: StackName, spec: PlatformSpec,
                references: Mapping[str, Mapping[str, Any]] | None = None,
                preview: bool = True,
                program: Callable[..., dict[str, Any]] = layer_program,
                extra_references: tuple[StackName, ...] = ()) -> MockResult:
    """Run `program` for `stack` under mocks; `references` serve its StackReferences
    (keyed by fully qualified stack name)."""
    # BEGIN SOLUTION
    missing = [up for up in dict.fromkeys((*stack.references, *extra_references))
               if up.fully_qualified() not in (references or {})]
    if missing:  # fail before the program starts: a failed RPC would outlive this run
        raise NotDeployedError(f"{stack} references {missing[0]}, which has no outputs "
                               "(preview or deploy it first)")
    mocks = ProviderMocks(str(stack), spec.region, spec.account, dict(references or {}))
    with _RUN_LOCK:
        try:
            asyncio.get_event_loop()
        except RuntimeError:  # a worker thread of the orchestrator: give it a loop
            asyncio.set_event_loop(asyncio.new_event_loop())
        ROOT.set(None)  # a fresh root Stack resource per run (the runtime keeps one per process)
        monitor = RecordingMonitor(mocks)
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=str(stack), preview=preview,
                                 monitor=monitor)
        captured: dict[str, Any] = {}

        def body() -> None:
            outputs = (program(stack, spec, extra_references=extra_references)
                       if extra_references else program(stack, spec))
            captured["outputs"] = _sync_await(pulumi.Output.from_input(outputs).future())

        modules = len(sys.modules)
        _sync_await(run_pulumi_func(body))
        ROOT.set(None)
        if len(sys.modules) > modules:
            gc.freeze()  # provider modules loaded lazily by this run: see components.__init__
    return MockResult(stack, monitor.registrations, _plain(captured.get("outputs") or {}))
    # END SOLUTION
