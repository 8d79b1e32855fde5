# mypy: disable-error-code="call-overload, misc"
# (the SDK's TypedDict overloads reject plain dict literals of mixed value types)
"""`pulumiml:azure:MLPlatform` on pulumi-azure-native 3: resource groups, VNet, Key Vault,
storage accounts, ACR, identities, Azure ML workspace, GPU compute, managed online endpoint.

Azure has no bucket: `SecureBucket` is a storage account (CMK, no public blobs, no shared
keys, versioned) with one private container. Each layer owns its resource group; a layer
finds the workspace of the `ml` layer from its ARM id (ids encode the hierarchy).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pulumi
import pulumi_azure_native as azure
import pulumi_azure_native.machinelearningservices as ml

from pulumiml.components.aws import _subnets
from pulumiml.components.base import MLPlatformBase
from pulumiml.spec import GPU_TYPES, Cloud, PlatformSpec, resource_name

#: Built-in role definition ids (stable across tenants).
ROLE_ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ROLE_BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
ROLE_BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ROLE_KEY_CRYPTO_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"


def compact(spec: PlatformSpec, text: str, limit: int = 24) -> str:
    """Storage/registry names: lower-case letters and digits only, unique per account."""
    digest = hashlib.sha256(f"{spec.account}/{spec.env}/{text}".encode()).hexdigest()[:6]
    return (re.sub(r"[^a-z0-9]", "", f"mlp{spec.env.value}{text}")[: limit - 6] + digest)


def arm_part(resource_id: str, segment: str) -> str:
    """The name after `/<segment>/` in an ARM id (`resourceGroups`, `workspaces`, `vaults`...)."""
    match = re.search(rf"/{segment}/([^/]+)", resource_id, re.IGNORECASE)
    if not match:
        raise ValueError(f"{resource_id!r} has no /{segment}/ part")
    return match.group(1)


def role_id(spec: PlatformSpec, role: str) -> str:
    return (f"/subscriptions/{spec.account}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{role}")


class PrivateNetwork(pulumi.ComponentResource):
    """A VNet with private subnets behind an NSG that denies inbound internet traffic."""

    def __init__(self, name: str, resource_group: pulumi.Input[str], location: str, cidr: str,
                 subnet_count: int, tags: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pulumiml:azure:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # BEGIN SOLUTION
        self.nsg = azure.network.NetworkSecurityGroup(
            f"{name}-nsg", resource_group_name=resource_group, location=location,
            security_rules=[{"name": "deny-internet-in", "priority": 4000, "direction": "Inbound",
                             "access": "Deny", "protocol": "*", "source_address_prefix": "Internet",
                             "source_port_range": "*", "destination_address_prefix": "*",
                             "destination_port_range": "*"}],
            tags=tags, opts=child)
        self.vnet = azure.network.VirtualNetwork(
            name, resource_group_name=resource_group, location=location,
            address_space={"address_prefixes": [cidr]}, tags=tags, opts=child)
        self.subnets = [
            azure.network.Subnet(f"{name}-private-{index}", subnet_name=f"private-{index}",
                                 resource_group_name=resource_group,
                                 virtual_network_name=self.vnet.name, address_prefix=block,
                                 network_security_group={"id": self.nsg.id},
                                 default_outbound_access=False,
                                 private_endpoint_network_policies="Enabled", opts=child)
            for index, block in enumerate(_subnets(cidr, subnet_count))
        ]
        self.register_outputs({"vnet_id": self.vnet.id})
        # END SOLUTION


class SecureBucket(pulumi.ComponentResource):
    """A storage account + private container: CMK from Key Vault, versioning, no public
    access, no shared keys, TLS 1.2, old versions deleted after `retention_days`."""

    def __init__(self, name: str, account_name: str, resource_group: pulumi.Input[str],
                 location: str, key_id: pulumi.Input[str], retention_days: int,
                 public_network: bool, tags: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pulumiml:azure:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # BEGIN SOLUTION
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-cmk", resource_group_name=resource_group, location=location, tags=tags,
            opts=child)
        key = pulumi.Output.from_input(key_id)
        self.account = azure.storage.StorageAccount(
            name, account_name=account_name, resource_group_name=resource_group,
            location=location, kind="StorageV2", sku={"name": "Standard_ZRS"},
            allow_blob_public_access=False, allow_shared_key_access=False,
            enable_https_traffic_only=True, minimum_tls_version="TLS1_2",
            public_network_access="Enabled" if public_network else "Disabled",
            identity={"type": "UserAssigned",
                      "user_assigned_identities": [identity.id]},
            encryption={"key_source": "Microsoft.Keyvault",
                        "require_infrastructure_encryption": True,
                        "encryption_identity": {"encryption_user_assigned_identity": identity.id},
                        "key_vault_properties": {
                            "key_name": key.apply(lambda k: arm_part(k, "keys")),
                            "key_vault_uri": key.apply(
                                lambda k: f"https://{arm_part(k, 'vaults')}.vault.azure.net")},
                        "services": {"blob": {"enabled": True, "key_type": "Account"}}},
            tags=tags, opts=child)
        azure.storage.BlobServiceProperties(
            f"{name}-blob", account_name=self.account.name, resource_group_name=resource_group,
            blob_services_name="default", is_versioning_enabled=True,
            delete_retention_policy={"enabled": True, "days": 7}, opts=child)
        self.container = azure.storage.BlobContainer(
            f"{name}-container", account_name=self.account.name, container_name="data",
            resource_group_name=resource_group, public_access="None", opts=child)
        azure.storage.ManagementPolicy(
            f"{name}-lifecycle", account_name=self.account.name, management_policy_name="default",
            resource_group_name=resource_group,
            policy={"rules": [{"name": "expire-versions", "enabled": True, "type": "Lifecycle",
                               "definition": {"filters": {"blob_types": ["blockBlob"]},
                                              "actions": {"version": {"delete": {
                                                  "days_after_creation_greater_than":
                                                      retention_days}}}}}]},
            opts=child)
        self.register_outputs({"account": self.account.name, "id": self.account.id})
        # END SOLUTION


class MLPlatform(MLPlatformBase):
    """`pulumiml:azure:MLPlatform`."""

    cloud = Cloud.AZURE.value

    def _group(self) -> azure.resources.ResourceGroup:
        spec = self.spec
        return azure.resources.ResourceGroup(
            resource_name(spec, f"{self.layer.value}-rg"),
            resource_group_name=resource_name(spec, f"{self.layer.value}-rg"),
            location=spec.region, tags=self.tags, opts=self.child())

    def build_network(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        group = self._group()
        net = PrivateNetwork(resource_name(spec, "net"), group.name, spec.region,
                             spec.network.cidr, spec.network.private_subnets, self.tags,
                             opts=self.child())
        vault = azure.keyvault.Vault(
            resource_name(spec, "kv"), vault_name=compact(spec, "kv"),
            resource_group_name=group.name,
            location=spec.region,
            properties={"tenant_id": spec.account, "sku": {"family": "A", "name": "premium"},
                        "enable_rbac_authorization": True, "enable_purge_protection": True,
                        "soft_delete_retention_in_days": spec.retention.key_deletion_days,
                        "public_network_access": "Disabled" if spec.network.private_endpoints
                        else "Enabled",
                        "network_acls": {"default_action": "Deny", "bypass": "AzureServices"}},
            tags=self.tags, opts=self.retain())
        key = azure.keyvault.Key(
            resource_name(spec, "key"), key_name="platform", vault_name=vault.name,
            resource_group_name=group.name,
            properties={"kty": "RSA-HSM", "key_size": 3072,
                        "rotation_policy": {"lifetime_actions": [{
                            "action": {"type": "rotate"},
                            "trigger": {"time_after_create": "P90D"}}]}},
            opts=self.retain())
        return {"network_id": net.vnet.id, "subnet_ids": [s.id for s in net.subnets],
                "security_group_id": net.nsg.id, "kms_key_id": key.id}
        # END SOLUTION

    def build_data(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        group = self._group()
        buckets = {
            bucket.name: SecureBucket(
                resource_name(spec, bucket.name), compact(spec, bucket.name), group.name,
                spec.region, self.needs("kms_key_id"), bucket.retention_days,
                public_network=not spec.network.private_endpoints,
                tags={**self.tags, "dataset": bucket.name}, opts=self.retain())
            for bucket in spec.buckets
        }
        return {"bucket_names": {k: b.account.name for k, b in buckets.items()},
                "bucket_ids": {k: b.account.id for k, b in buckets.items()}}
        # END SOLUTION

    def build_ml(self) -> dict[str, Any]:
        spec = self.spec
        private = spec.network.private_endpoints
        # BEGIN SOLUTION
        group = self._group()
        registry = azure.containerregistry.Registry(
            resource_name(spec, spec.registry.name),
            registry_name=compact(spec, f"acr{spec.registry.name}"),
            resource_group_name=group.name, location=spec.region, sku={"name": "Premium"},
            admin_user_enabled=False, anonymous_pull_enabled=False,
            public_network_access="Disabled" if private else "Enabled",
            policies={"retention_policy": {"status": "enabled", "days": 30},
                      "trust_policy": {"status": "enabled" if spec.registry.immutable_tags
                                       else "disabled"}},
            tags=self.tags, opts=self.child())
        storage_ids = pulumi.Output.from_input(self.needs("bucket_ids"))
        identities = {}
        for purpose, blob_role in (("training", ROLE_BLOB_CONTRIBUTOR),
                                   ("serving", ROLE_BLOB_READER)):
            identity = azure.managedidentity.UserAssignedIdentity(
                resource_name(spec, f"{purpose}-id"), resource_group_name=group.name,
                location=spec.region, tags=self.tags, opts=self.child())
            azure.authorization.RoleAssignment(
                resource_name(spec, f"{purpose}-acr-pull"), principal_id=identity.principal_id,
                principal_type="ServicePrincipal", role_definition_id=role_id(spec, ROLE_ACR_PULL),
                scope=registry.id, opts=self.child())
            for dataset in (b.name for b in spec.buckets):
                azure.authorization.RoleAssignment(
                    resource_name(spec, f"{purpose}-{dataset}-blob"),
                    principal_id=identity.principal_id, principal_type="ServicePrincipal",
                    role_definition_id=role_id(spec, blob_role),
                    scope=storage_ids.apply(lambda ids, d=dataset: ids[d]), opts=self.child())
            identities[purpose] = identity
        first = spec.buckets[0].name
        key = pulumi.Output.from_input(self.needs("kms_key_id"))
        workspace = azure.machinelearningservices.Workspace(
            resource_name(spec, "workspace"), workspace_name=resource_name(spec, "workspace"),
            resource_group_name=group.name, location=spec.region,
            identity={"type": "SystemAssigned"}, sku={"name": "Basic", "tier": "Basic"},
            storage_account=storage_ids.apply(lambda ids: ids[first]),
            key_vault=key.apply(lambda k: k.split("/keys/")[0]),
            container_registry=registry.id, hbi_workspace=spec.env.value == "prod",
            public_network_access="Disabled" if private else "Enabled",
            managed_network={"isolation_mode": "AllowOnlyApprovedOutbound" if private
                             else "AllowInternetOutbound"},
            tags=self.tags, opts=self.child())
        compute = azure.machinelearningservices.Compute(
            resource_name(spec, "training"), compute_name="gpu-training",
            resource_group_name=group.name, workspace_name=workspace.name, location=spec.region,
            identity={"type": "UserAssigned",
                      "user_assigned_identities": [identities["training"].id]},
            # Union-typed properties need the typed Args classes: plain dicts would reach the
            # provider with snake_case keys (the SDK cannot tell which variant is meant).
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute",
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=GPU_TYPES[spec.training.gpu_type][Cloud.AZURE],
                    vm_priority="LowPriority" if spec.training.spot else "Dedicated",
                    scale_settings=ml.ScaleSettingsArgs(min_node_count=0,
                                                        max_node_count=spec.training.max_nodes),
                    enable_node_public_ip=False, remote_login_port_public_access="Disabled",
                    subnet=ml.ResourceIdArgs(id=pulumi.Output.from_input(
                        self.needs("subnet_ids")).apply(lambda ids: ids[0])))),
            tags=self.tags, opts=self.child())
        return {"registry_url": registry.login_server,
                "training_identity": identities["training"].id,
                "serving_identity": identities["serving"].id, "training_compute": compute.id}
        # END SOLUTION

    def build_serving(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        compute_id = pulumi.Output.from_input(self.needs("training_compute"))
        group_name = compute_id.apply(lambda cid: arm_part(cid, "resourceGroups"))
        workspace_name = compute_id.apply(lambda cid: arm_part(cid, "workspaces"))
        endpoint = azure.machinelearningservices.OnlineEndpoint(
            resource_name(spec, "endpoint"), endpoint_name=resource_name(spec, "endpoint"),
            resource_group_name=group_name, workspace_name=workspace_name, location=spec.region,
            identity={"type": "UserAssigned",
                      "user_assigned_identities": [self.needs("serving_identity")]},
            properties={"auth_mode": "AADToken",
                        "public_network_access": "Disabled" if spec.network.private_endpoints
                        else "Enabled"},
            tags=self.tags, opts=self.child())
        azure.machinelearningservices.OnlineDeployment(
            resource_name(spec, "deployment"), deployment_name="primary",
            endpoint_name=endpoint.name, resource_group_name=group_name,
            workspace_name=workspace_name, location=spec.region,
            sku={"name": "Default", "capacity": max(1, spec.serving.min_replicas)},
            properties=ml.ManagedOnlineDeploymentArgs(
                endpoint_compute_type="Managed", instance_type=spec.serving.instance_type,
                egress_public_network_access="Disabled" if spec.network.private_endpoints
                else "Enabled",
                scale_settings=ml.TargetUtilizationScaleSettingsArgs(
                    scale_type="TargetUtilization",
                    min_instances=max(1, spec.serving.min_replicas),
                    max_instances=spec.serving.max_replicas)),
            tags=self.tags, opts=self.child())
        return {"endpoint_name": endpoint.name, "endpoint_id": endpoint.id,
                "min_replicas": spec.serving.min_replicas,
                "max_replicas": spec.serving.max_replicas}
        # END SOLUTION
