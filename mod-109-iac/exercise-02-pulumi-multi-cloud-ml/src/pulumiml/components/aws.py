# mypy: disable-error-code="call-overload, misc"
# (the SDK's TypedDict overloads reject plain dict literals of mixed value types)
"""`pulumiml:aws:MLPlatform` on pulumi-aws 7, with the reusable `PrivateNetwork` and
`SecureBucket` components.

pulumi-aws 7 splits an S3 bucket's settings into their own resources (versioning, encryption,
public access block, lifecycle): `SecureBucket` keeps them together under one parent.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumiml.components.base import MLPlatformBase
from pulumiml.spec import GPU_TYPES, Cloud, PlatformSpec, resource_name


def _subnets(cidr: str, count: int) -> list[str]:
    """The first `count` /24 (or next smaller) subnets of `cidr`."""
    network = ipaddress.IPv4Network(cidr)
    new_prefix = max(network.prefixlen + 1, min(24, network.prefixlen + 4))
    return [str(sub) for sub, _ in zip(network.subnets(new_prefix=new_prefix), range(count),
                                       strict=False)]


class PrivateNetwork(pulumi.ComponentResource):
    """A VPC with private subnets only, a deny-by-default security group, and (for prod)
    interface endpoints so SageMaker and ECR traffic never leaves the VPC."""

    def __init__(self, name: str, cidr: str, subnet_count: int, region: str,
                 private_endpoints: bool, tags: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pulumiml:aws:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # BEGIN SOLUTION
        self.vpc = aws.ec2.Vpc(name, cidr_block=cidr, enable_dns_hostnames=True,
                               enable_dns_support=True, tags={**tags, "Name": name}, opts=child)
        zones = "abcdef"
        self.subnets = [
            aws.ec2.Subnet(f"{name}-private-{index}", vpc_id=self.vpc.id, cidr_block=block,
                           availability_zone=f"{region}{zones[index]}",
                           map_public_ip_on_launch=False,
                           tags={**tags, "Name": f"{name}-private-{index}", "tier": "private"},
                           opts=child)
            for index, block in enumerate(_subnets(cidr, subnet_count))
        ]
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-workloads", vpc_id=self.vpc.id, description="ML workloads: HTTPS out only",
            ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443,
                      "cidr_blocks": [cidr], "description": "HTTPS inside the VPC"}],
            egress=[{"protocol": "tcp", "from_port": 443, "to_port": 443,
                     "cidr_blocks": ["0.0.0.0/0"], "description": "HTTPS out"}],
            tags=tags, opts=child)
        self.endpoints = []
        if private_endpoints:
            for service in ("sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr"):
                self.endpoints.append(aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}", vpc_id=self.vpc.id,
                    service_name=f"com.amazonaws.{region}.{service}",
                    vpc_endpoint_type="Interface", private_dns_enabled=True,
                    subnet_ids=[subnet.id for subnet in self.subnets],
                    security_group_ids=[self.security_group.id], tags=tags, opts=child))
        self.register_outputs({"vpc_id": self.vpc.id,
                               "subnet_ids": [subnet.id for subnet in self.subnets]})
        # END SOLUTION


class SecureBucket(pulumi.ComponentResource):
    """An S3 bucket that is versioned, KMS-encrypted, private, and expires old versions."""

    def __init__(self, name: str, bucket_name: str, kms_key_id: pulumi.Input[str],
                 retention_days: int, tags: dict[str, str], force_destroy: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pulumiml:aws:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # BEGIN SOLUTION
        self.bucket = aws.s3.Bucket(name, bucket=bucket_name, force_destroy=force_destroy,
                                    tags=tags, opts=child)
        aws.s3.BucketVersioning(f"{name}-versioning", bucket=self.bucket.id,
                                versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_id},
                "bucket_key_enabled": True}], opts=child)
        aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=self.bucket.id,
                                       block_public_acls=True, block_public_policy=True,
                                       ignore_public_acls=True, restrict_public_buckets=True,
                                       opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id,
            rules=[{"id": "expire-noncurrent", "status": "Enabled", "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": retention_days}}],
            opts=child)
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})
        # END SOLUTION


def _assume(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}]})


class MLPlatform(MLPlatformBase):
    """`pulumiml:aws:MLPlatform`: VPC, KMS, S3, ECR, IAM, SageMaker."""

    cloud = Cloud.AWS.value

    def build_network(self) -> dict[str, Any]:
        spec: PlatformSpec = self.spec
        # BEGIN SOLUTION
        net = PrivateNetwork(resource_name(spec, "net"), spec.network.cidr,
                             spec.network.private_subnets, spec.region,
                             spec.network.private_endpoints, self.tags, opts=self.child())
        key = aws.kms.Key(resource_name(spec, "key"), description="pulumiml platform key",
                          enable_key_rotation=True,
                          deletion_window_in_days=spec.retention.key_deletion_days,
                          tags=self.tags, opts=self.retain())
        return {"network_id": net.vpc.id, "subnet_ids": [s.id for s in net.subnets],
                "security_group_id": net.security_group.id, "kms_key_id": key.arn}
        # END SOLUTION

    def build_data(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        buckets = {
            bucket.name: SecureBucket(
                resource_name(spec, bucket.name),
                f"{resource_name(spec, bucket.name)}-{spec.region}",
                self.needs("kms_key_id"), bucket.retention_days,
                {**self.tags, "dataset": bucket.name},
                force_destroy=not spec.retention.keep_on_destroy, opts=self.retain())
            for bucket in spec.buckets
        }
        return {"bucket_names": {k: b.bucket.bucket for k, b in buckets.items()},
                "bucket_ids": {k: b.bucket.arn for k, b in buckets.items()}}
        # END SOLUTION

    def build_ml(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        repo = aws.ecr.Repository(
            resource_name(spec, spec.registry.name), name=resource_name(spec, spec.registry.name),
            image_tag_mutability="IMMUTABLE" if spec.registry.immutable_tags else "MUTABLE",
            image_scanning_configuration={"scan_on_push": spec.registry.scan_on_push},
            encryption_configurations=[{"encryption_type": "KMS",
                                        "kms_key": self.needs("kms_key_id")}],
            force_delete=not spec.retention.keep_on_destroy, tags=self.tags,
            opts=self.child())
        bucket_arns = pulumi.Output.from_input(self.needs("bucket_ids")).apply(
            lambda arns: sorted(arns.values()))
        roles = {}
        for purpose, actions in (
            ("training", ["s3:GetObject", "s3:PutObject", "s3:ListBucket",
                          "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]),
            ("serving", ["s3:GetObject", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]),
        ):
            role = aws.iam.Role(resource_name(spec, f"{purpose}-role"),
                                assume_role_policy=_assume("sagemaker.amazonaws.com"),
                                tags=self.tags, opts=self.child())
            policy = pulumi.Output.all(bucket_arns, repo.arn, self.needs("kms_key_id")).apply(
                lambda args, actions=actions: json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": actions,
                     "Resource": [*args[0], *[f"{arn}/*" for arn in args[0]], args[1]]},
                    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                     "Resource": [args[2]]}]}))
            aws.iam.RolePolicy(resource_name(spec, f"{purpose}-policy"), role=role.id,
                               policy=policy, opts=self.child())
            roles[purpose] = role
        compute = aws.batch.ComputeEnvironment(
            resource_name(spec, "training"), type="MANAGED",
            compute_resources={
                "type": "SPOT" if spec.training.spot else "EC2",
                "instance_types": [GPU_TYPES[spec.training.gpu_type][Cloud.AWS]],
                "min_vcpus": 0, "max_vcpus": 8 * spec.training.max_nodes,
                "subnets": self.needs("subnet_ids"),
                "security_group_ids": [self.needs("security_group_id")],
                "instance_role": roles["training"].arn,
                "tags": self.tags},
            tags=self.tags, opts=self.child())
        return {"registry_url": repo.repository_url, "training_identity": roles["training"].arn,
                "serving_identity": roles["serving"].arn, "training_compute": compute.arn}
        # END SOLUTION

    def build_serving(self) -> dict[str, Any]:
        spec = self.spec
        # BEGIN SOLUTION
        model = aws.sagemaker.Model(
            resource_name(spec, "model"), execution_role_arn=self.needs("serving_identity"),
            primary_container={"image": pulumi.Output.concat(self.needs("registry_url"),
                                                              ":latest")},
            vpc_config={"subnets": self.needs("subnet_ids"),
                        "security_group_ids": [self.needs("security_group_id")]},
            enable_network_isolation=True, tags=self.tags, opts=self.child())
        config = aws.sagemaker.EndpointConfiguration(
            resource_name(spec, "endpoint-config"), kms_key_arn=self.needs("kms_key_id"),
            production_variants=[{"variant_name": "primary", "model_name": model.name,
                                  "instance_type": spec.serving.instance_type,
                                  "initial_instance_count": max(1, spec.serving.min_replicas)}],
            tags=self.tags, opts=self.child())
        endpoint = aws.sagemaker.Endpoint(resource_name(spec, "endpoint"),
                                          endpoint_config_name=config.name, tags=self.tags,
                                          opts=self.child())
        aws.appautoscaling.Target(
            resource_name(spec, "endpoint-scaling"),
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=pulumi.Output.concat("endpoint/", endpoint.name, "/variant/primary"),
            min_capacity=max(1, spec.serving.min_replicas), max_capacity=spec.serving.max_replicas,
            opts=self.child())
        return {"endpoint_name": endpoint.name, "endpoint_id": endpoint.arn,
                "min_replicas": spec.serving.min_replicas,
                "max_replicas": spec.serving.max_replicas}
        # END SOLUTION
