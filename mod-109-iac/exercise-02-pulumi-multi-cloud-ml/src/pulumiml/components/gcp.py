"""`pulumiml:gcp:MLPlatform` on pulumi-gcp 10: VPC, Cloud KMS, GCS, Artifact Registry,
service accounts, Vertex AI endpoint, with GCP's own `PrivateNetwork` and `SecureBucket`."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_gcp as gcp

from pulumiml.components.aws import _subnets
from pulumiml.components.base import MLPlatformBase
from pulumiml.spec import GPU_TYPES, Cloud, resource_name

_TRAINING_IMAGE = "projects/deeplearning-platform-release/global/images/family/common-cu124"

#: Predefined roles only: no primitive roles (owner/editor) for workloads.
_ROLES = {
    "training": ("roles/storage.objectAdmin", "roles/artifactregistry.reader",
                 "roles/aiplatform.user"),
    "serving": ("roles/storage.objectViewer", "roles/artifactregistry.reader"),
}


def labels(tags: dict[str, str]) -> dict[str, str]:
    """GCP labels: lower-case keys and values, [a-z0-9_-] only."""
    return {key: re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63] for key, value in tags.items()}


class PrivateNetwork(pulumi.ComponentResource):
    """A custom-mode VPC, subnets with Private Google Access, and a deny-all ingress rule."""

    def __init__(self, name: str, cidr: str, subnet_count: int, region: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pulumiml:gcp:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # BEGIN SOLUTION
        self.network = gcp.compute.Network(name, name=name, auto_create_subnetworks=False,
                                           routing_mode="REGIONAL", opts=child)
        self.subnets = [
            gcp.compute.Subnetwork(f"{name}-private-{index}", name=f"{name}-private-{index}",
                                   network=self.network.id, ip_cidr_range=block, region=region,
                                   private_ip_google_access=True,
                                   log_config={"aggregation_interval": "INTERVAL_5_MIN"},
                                   opts=child)
            for index, block in enumerate(_subnets(cidr, subnet_count))
        ]
        self.firewall = gcp.compute.Firewall(
            f"{name}-deny-ingress", name=f"{name}-deny-ingress", network=self.network.id,
            direction="INGRESS", priority=65534, denies=[{"protocol": "all"}],
            source_ranges=["0.0.0.0/0"], opts=child)
        self.register_outputs({"network_id": self.network.id})
        # END SOLUTION


class SecureBucket(pulumi.ComponentResource):
    """A GCS bucket: uniform access, public access prevented, versioned, CMEK."""

    def __init__(self, name: str, bucket_name: str, location: str,
                 kms_key_id: pulumi.Input[str], retention_days: int, label_map: dict[str, str],
                 force_destroy: bool, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pulumiml:gcp:SecureBucket", name, None, opts)
        # BEGIN SOLUTION
        self.bucket = gcp.storage.Bucket(
            name, name=bucket_name, location=location.upper(), force_destroy=force_destroy,
            uniform_bucket_level_access=True, public_access_prevention="enforced",
            versioning={"enabled": True}, encryption={"default_kms_key_name": kms_key_id},
            lifecycle_rules=[{"action": {"type": "Delete"},
                              "condition": {"days_since_noncurrent_time": retention_days,
                                            "with_state": "ARCHIVED"}}],
            labels=label_map, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"bucket": self.bucket.name, "url": self.bucket.url})
        # END SOLUTION


class MLPlatform(MLPlatformBase):
    """`pulumiml:gcp:MLPlatform`."""

    cloud = Cloud.GCP.value

    def build_network(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        net = PrivateNetwork(resource_name(spec, "net"), spec.network.cidr,
                             spec.network.private_subnets, spec.region, opts=self.child())
        days = spec.retention.key_deletion_days
        ring = gcp.kms.KeyRing(resource_name(spec, "keyring"), name=resource_name(spec, "keyring"),
                               location=spec.region, opts=self.retain())
        key = gcp.kms.CryptoKey(resource_name(spec, "key"), name=resource_name(spec, "key"),
                                key_ring=ring.id, rotation_period="7776000s",
                                destroy_scheduled_duration=f"{days * 86400}s",
                                labels=labels(self.tags), opts=self.retain())
        return {"network_id": net.network.id, "subnet_ids": [s.id for s in net.subnets],
                "security_group_id": net.firewall.id, "kms_key_id": key.id}
        # END SOLUTION

    def build_data(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        buckets = {
            bucket.name: SecureBucket(
                resource_name(spec, bucket.name),
                f"{resource_name(spec, bucket.name)}-{spec.region}",
                spec.region, self.needs("kms_key_id"), bucket.retention_days,
                labels({**self.tags, "dataset": bucket.name}),
                force_destroy=not spec.retention.keep_on_destroy, opts=self.retain())
            for bucket in spec.buckets
        }
        return {"bucket_names": {k: b.bucket.name for k, b in buckets.items()},
                "bucket_ids": {k: b.bucket.self_link for k, b in buckets.items()}}
        # END SOLUTION

    def build_ml(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        repo = gcp.artifactregistry.Repository(
            resource_name(spec, spec.registry.name),
            repository_id=resource_name(spec, spec.registry.name), location=spec.region,
            format="DOCKER", kms_key_name=self.needs("kms_key_id"),
            docker_config={"immutable_tags": spec.registry.immutable_tags},
            vulnerability_scanning_config={
                "enablement_config": "INHERITED" if spec.registry.scan_on_push else "DISABLED"},
            labels=labels(self.tags), opts=self.child())
        accounts = {}
        for purpose, roles in _ROLES.items():
            account = gcp.serviceaccount.Account(
                resource_name(spec, f"{purpose}-sa"), account_id=resource_name(spec, purpose),
                display_name=f"pulumiml {spec.env.value} {purpose}", opts=self.child())
            for role in roles:
                gcp.projects.IAMMember(
                    resource_name(spec, f"{purpose}-{role.split('/')[-1].replace('.', '-')}"),
                    project=spec.account, role=role,
                    member=account.email.apply(lambda email: f"serviceAccount:{email}"),
                    opts=self.child())
            accounts[purpose] = account
        template = gcp.compute.InstanceTemplate(
            resource_name(spec, "training"), name_prefix=resource_name(spec, "training-"),
            machine_type="n1-standard-8" if spec.training.gpu_type == "t4" else "a2-highgpu-1g",
            guest_accelerators=[{"type": GPU_TYPES[spec.training.gpu_type][Cloud.GCP],
                                 "count": spec.training.gpu_count}],
            scheduling={"provisioning_model": "SPOT" if spec.training.spot else "STANDARD",
                        "preemptible": spec.training.spot,
                        "automatic_restart": not spec.training.spot,
                        "on_host_maintenance": "TERMINATE"},
            disks=[{"source_image": _TRAINING_IMAGE, "boot": True,
                    "disk_encryption_key": {"kms_key_self_link": self.needs("kms_key_id")}}],
            network_interfaces=[{"subnetwork": pulumi.Output.from_input(
                self.needs("subnet_ids")).apply(lambda ids: ids[0])}],
            service_account={"email": accounts["training"].email, "scopes": ["cloud-platform"]},
            labels=labels(self.tags), opts=self.child())
        registry_url = repo.repository_id.apply(
            lambda rid: f"{spec.region}-docker.pkg.dev/{spec.account}/{rid}")
        return {"registry_url": registry_url, "training_identity": accounts["training"].email,
                "serving_identity": accounts["serving"].email, "training_compute": template.id}
        # END SOLUTION

    def build_serving(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        endpoint_args: dict[str, Any] = {}
        if spec.network.private_endpoints:
            endpoint_args["private_service_connect_config"] = {
                "enable_private_service_connect": True, "project_allowlists": [spec.account]}
        endpoint = gcp.vertex.AiEndpoint(
            resource_name(spec, "endpoint"), name=resource_name(spec, "endpoint"),
            display_name=resource_name(spec, "endpoint"), location=spec.region,
            region=spec.region, encryption_spec={"kms_key_name": self.needs("kms_key_id")},
            labels=labels(self.tags), opts=self.child(), **endpoint_args)
        gcp.vertex.AiDeploymentResourcePool(
            resource_name(spec, "serving-pool"), name=resource_name(spec, "serving-pool"),
            region=spec.region,
            dedicated_resources={"machine_spec": {"machine_type": spec.serving.instance_type},
                                 "min_replica_count": max(1, spec.serving.min_replicas),
                                 "max_replica_count": spec.serving.max_replicas},
            opts=self.child())
        return {"endpoint_name": endpoint.name, "endpoint_id": endpoint.id,
                "min_replicas": spec.serving.min_replicas,
                "max_replicas": spec.serving.max_replicas}
        # END SOLUTION
