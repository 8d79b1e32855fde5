"""Recommendations from a real inventory on moto: idle volumes, free Elastic IPs, long-
stopped instances, rightsizing from CloudWatch CPU, idle SageMaker endpoints, buckets
without lifecycle rules; commitment coverage from the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiinfra_shared.procs import MotoServer

from costwatch import analysis
from costwatch.adapters.aws_inventory import AwsInventory
from costwatch.analysis import Filters
from costwatch.recommend import commitment_coverage, recommend
from costwatch.store import Store
from tests.conftest import Lazy, load, row

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def inventory_world_lazy(moto_server: MotoServer) -> Lazy[dict[str, Any]]:
    return Lazy(lambda: _inventory_world(moto_server))


def _inventory_world(moto_server: MotoServer) -> dict[str, Any]:
    ec2 = moto_server.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    idle_volume = ec2.create_volume(Size=100, VolumeType="gp3",
                                    AvailabilityZone="us-east-1a")["VolumeId"]
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    busy = ec2.run_instances(ImageId=image, InstanceType="m5.2xlarge", MinCount=1,
                             MaxCount=1)["Instances"][0]["InstanceId"]
    quiet = ec2.run_instances(ImageId=image, InstanceType="m5.2xlarge", MinCount=1,
                              MaxCount=1)["Instances"][0]["InstanceId"]
    stopped = ec2.run_instances(ImageId=image, InstanceType="t3.large", MinCount=1,
                                MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[stopped])
    cloudwatch = moto_server.client("cloudwatch")
    now = datetime.now(UTC)
    for instance, cpu in ((busy, 85.0), (quiet, 12.0)):
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=[
            {"MetricName": "CPUUtilization", "Value": cpu * (0.5 + 0.1 * h), "Unit": "Percent",
             "Timestamp": now - timedelta(hours=h + 1),
             "Dimensions": [{"Name": "InstanceId", "Value": instance}]} for h in range(5)])
    sagemaker = moto_server.client("sagemaker")
    role = "arn:aws:iam::123456789012:role/sm"
    for name, calls in (("churn-idle", 0), ("churn-busy", 40)):
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=role,
                               PrimaryContainer={"Image": "123.dkr.ecr/x:1"})
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 2,
             "InstanceType": "ml.m5.xlarge"}])
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        if calls:
            cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{
                "MetricName": "Invocations", "Value": float(calls), "Timestamp": now
                - timedelta(hours=2), "Dimensions": [
                    {"Name": "EndpointName", "Value": name},
                    {"Name": "VariantName", "Value": "AllTraffic"}]}])
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="raw-logs")
    s3.put_object(Bucket="raw-logs", Key="a.log", Body=b"x" * 2_000_000)
    s3.create_bucket(Bucket="tidy-logs")
    s3.put_bucket_lifecycle_configuration(Bucket="tidy-logs", LifecycleConfiguration={
        "Rules": [{"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": ""},
                   "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}]})

    def client(name: str) -> Any:
        return moto_server.client(name)

    # "now" a month later: the stopped instance has been stopped for 30 days by then.
    inventory = AwsInventory(client).collect(now)
    later = recommend(inventory, now + timedelta(days=30))
    return {"recs": {(r.kind, r.resource_id): r for r in later}, "ids": {
        "volume": idle_volume, "address": address, "busy": busy, "quiet": quiet,
        "stopped": stopped}, "inventory": inventory, "now": now}


@pytest.mark.points(4)
def test_idle_resources_are_found_with_savings(inventory_world_lazy: Lazy[dict[str, Any]]) -> None:
    inventory_world = inventory_world_lazy.get()
    recs, ids = inventory_world["recs"], inventory_world["ids"]
    assert recs[("unattached-volume", ids["volume"])].monthly_savings == pytest.approx(8.0)
    assert recs[("idle-elastic-ip", ids["address"])].monthly_savings == pytest.approx(3.65)
    stopped = recs[("long-stopped-instance", ids["stopped"])]
    assert "30 days" in stopped.detail and stopped.monthly_savings > 0
    endpoint = recs[("idle-sagemaker-endpoint", "churn-idle/AllTraffic")]
    assert endpoint.monthly_savings == pytest.approx(0.23 * 2 * 730)
    assert ("idle-sagemaker-endpoint", "churn-busy/AllTraffic") not in recs


@pytest.mark.points(3)
def test_rightsizing_from_cloudwatch_cpu(inventory_world_lazy: Lazy[dict[str, Any]]) -> None:
    inventory_world = inventory_world_lazy.get()
    recs, ids = inventory_world["recs"], inventory_world["ids"]
    quiet = recs[("rightsize-instance", ids["quiet"])]
    assert quiet.action == "resize m5.2xlarge -> m5.xlarge"
    assert quiet.monthly_savings == pytest.approx((0.384 - 0.192) * 730)
    assert ("rightsize-instance", ids["busy"]) not in recs


@pytest.mark.points(2)
def test_buckets_without_lifecycle(inventory_world_lazy: Lazy[dict[str, Any]]) -> None:
    inventory_world = inventory_world_lazy.get()
    recs = inventory_world["recs"]
    assert ("bucket-without-lifecycle", "raw-logs") in recs
    assert ("bucket-without-lifecycle", "tidy-logs") not in recs


@pytest.mark.points(2)
@pytest.mark.hidden
def test_stopped_recently_is_not_flagged(inventory_world_lazy: Lazy[dict[str, Any]]) -> None:
    inventory_world = inventory_world_lazy.get()
    today = recommend(inventory_world["inventory"], inventory_world["now"])
    assert all(r.kind != "long-stopped-instance" for r in today)


@pytest.mark.points(3)
def test_commitment_coverage_of_the_steady_baseline(store: Store) -> None:
    start = date(2026, 4, 1)
    rows = []
    for i in range(30):
        day = (start + timedelta(days=i)).isoformat()
        rows.append(row(day, 240.0 + (100.0 if i % 7 == 0 else 0.0),
                        service="Amazon Elastic Compute Cloud"))
        rows.append(row(day, 60.0, service="Amazon Elastic Compute Cloud",
                        CommitmentDiscountId="sp-1"))
    load(store, rows)
    series = analysis.compute_daily(store, Filters(start, start + timedelta(days=30)))
    rec = commitment_coverage(*series["AWS"], provider="AWS")
    assert rec is not None
    assert rec.action == "commit $10.00/hour (1-year, no upfront)"
    assert rec.monthly_savings == pytest.approx(240.0 * 30.4 * 0.28)
    assert "coverage 19%" in rec.detail  # 1800 covered of 1800 + 7200 + 500
