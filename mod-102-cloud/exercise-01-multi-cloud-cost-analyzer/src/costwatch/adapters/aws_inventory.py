"""AWS inventory for recommendations: EC2 volumes, addresses and instances, CloudWatch CPU
and SageMaker invocations, S3 buckets and their lifecycle rules. Read-only calls only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from costwatch.adapters.aws import aws_error
from costwatch.recommend import Address, Bucket, Endpoint, Instance, Inventory, Volume, since


class AwsInventory:
    """Collects an `Inventory` from one region with boto3 clients made by `client(name)`."""

    def __init__(self, client: Any, region: str = "us-east-1", lookback_days: int = 14
                 ) -> None:
        self.client = client  # callable: service name -> boto3 client
        self.region = region
        self.lookback = timedelta(days=lookback_days)

    def collect(self, now: datetime) -> Inventory:
        try:
            ec2 = self.client("ec2")
            volumes = [self._volume(v) for page in
                       ec2.get_paginator("describe_volumes").paginate()
                       for v in page["Volumes"]]
            by_id = {v.volume_id: v for v in volumes}
            addresses = [Address(a.get("AllocationId", a["PublicIp"]), a["PublicIp"],
                                 "AssociationId" in a, self.region)
                         for a in ec2.describe_addresses()["Addresses"]]
            instances = []
            cloudwatch = self.client("cloudwatch")
            for page in ec2.get_paginator("describe_instances").paginate():
                for reservation in page["Reservations"]:
                    for inst in reservation["Instances"]:
                        instances.append(self._instance(inst, by_id, cloudwatch, now))
            endpoints = self._endpoints(now, cloudwatch)
            buckets = self._buckets()
        except (ClientError, BotoCoreError) as exc:
            raise aws_error(exc, "inventory") from exc
        return Inventory(volumes, addresses, instances, endpoints, buckets)

    def _volume(self, v: dict[str, Any]) -> Volume:
        return Volume(v["VolumeId"], int(v["Size"]), v.get("VolumeType", "gp2"),
                      bool(v.get("Attachments")), self.region)

    def _instance(self, inst: dict[str, Any], volumes: dict[str, Volume], cloudwatch: Any,
                  now: datetime) -> Instance:
        state = inst["State"]["Name"]
        attached = tuple(volumes[m["Ebs"]["VolumeId"]] for m in inst.get("BlockDeviceMappings", [])
                         if m.get("Ebs", {}).get("VolumeId") in volumes)
        cpu = None
        if state == "running":
            stats = cloudwatch.get_metric_statistics(
                Namespace="AWS/EC2", MetricName="CPUUtilization",
                Dimensions=[{"Name": "InstanceId", "Value": inst["InstanceId"]}],
                StartTime=now - self.lookback, EndTime=now, Period=3600,
                Statistics=["Maximum"])
            points = [p["Maximum"] for p in stats["Datapoints"]]
            cpu = max(points) if points else None  # no data: no rightsizing claim
        stopped = since(inst.get("StateTransitionReason", "")) if state == "stopped" else None
        return Instance(inst["InstanceId"], inst["InstanceType"], state, stopped, attached,
                        cpu, self.region)

    def _endpoints(self, now: datetime, cloudwatch: Any) -> list[Endpoint]:
        sagemaker = self.client("sagemaker")
        out = []
        for summary in sagemaker.list_endpoints()["Endpoints"]:
            name = summary["EndpointName"]
            endpoint = sagemaker.describe_endpoint(EndpointName=name)
            config = sagemaker.describe_endpoint_config(
                EndpointConfigName=endpoint["EndpointConfigName"])
            for variant in config["ProductionVariants"]:
                stats = cloudwatch.get_metric_statistics(
                    Namespace="AWS/SageMaker", MetricName="Invocations",
                    Dimensions=[{"Name": "EndpointName", "Value": name},
                                {"Name": "VariantName", "Value": variant["VariantName"]}],
                    StartTime=now - self.lookback, EndTime=now, Period=86400,
                    Statistics=["Sum"])
                invocations = sum(p["Sum"] for p in stats["Datapoints"])
                out.append(Endpoint(f"{name}/{variant['VariantName']}",
                                    variant["InstanceType"],
                                    int(variant.get("InitialInstanceCount", 1)), invocations,
                                    self.region))
        return out

    def _buckets(self) -> list[Bucket]:
        s3 = self.client("s3")
        out = []
        for bucket in s3.list_buckets()["Buckets"]:
            name = bucket["Name"]
            try:
                s3.get_bucket_lifecycle_configuration(Bucket=name)
                has_rules = True
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "NoSuchLifecycleConfiguration":
                    raise
                has_rules = False
            size = 0
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                size += sum(obj["Size"] for obj in page.get("Contents", []))
            out.append(Bucket(name, has_rules, size / 1e9))
        return out
