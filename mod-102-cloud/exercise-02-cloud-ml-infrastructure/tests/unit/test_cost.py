from pathlib import Path
from typing import Any

import pytest

from cloudml.cost import delta, price_plan
from cloudml.errors import InputError
from cloudml.price_table import PriceTable, load_price_table

TABLE = PriceTable(as_of="2026-11-01", region="us-east-1", hours_per_month=730,
                   hourly={"aws_nat_gateway": 0.045}, monthly={"aws_kms_key": 1.0},
                   sagemaker_hosting={"ml.m5.large": 0.115},
                   sagemaker_notebook={"ml.t3.medium": 0.05}, sagemaker_storage_gb_month=0.14,
                   usage_based=["aws_s3_bucket"], free=["aws_vpc",
                                                        "aws_sagemaker_endpoint_configuration"])


def res(address: str, kind: str, **values: Any) -> dict[str, Any]:
    return {"address": address, "type": kind, "mode": "managed", "values": values}


def plan(*resources: dict[str, Any], child: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    root: dict[str, Any] = {"resources": list(resources)}
    if child:
        root["child_modules"] = [{"resources": child}]
    return {"planned_values": {"root_module": root}}


ENDPOINT = [
    res("module.p.aws_sagemaker_endpoint_configuration.c", "aws_sagemaker_endpoint_configuration",
        name="cfg", production_variants=[{"instance_type": "ml.m5.large",
                                          "initial_instance_count": 2,
                                          "volume_size_in_gb": 30}]),
    res("module.p.aws_sagemaker_endpoint.e", "aws_sagemaker_endpoint", name="ep",
        endpoint_config_name="cfg"),
]


@pytest.mark.points(3)
def test_sagemaker_endpoint_is_priced_from_its_config() -> None:
    report = price_plan(plan(child=ENDPOINT), TABLE)
    (line,) = report.lines
    assert line.address == "module.p.aws_sagemaker_endpoint.e"
    assert line.monthly == pytest.approx(2 * (0.115 * 730 + 30 * 0.14))  # 176.30
    assert "2 x ml.m5.large" in line.detail


@pytest.mark.points(2)
def test_every_resource_is_accounted_for() -> None:
    report = price_plan(plan(
        res("aws_nat_gateway.n", "aws_nat_gateway"), res("aws_kms_key.k", "aws_kms_key"),
        res("aws_vpc.v", "aws_vpc"), res("aws_s3_bucket.b", "aws_s3_bucket"),
        res("aws_sagemaker_notebook_instance.nb", "aws_sagemaker_notebook_instance",
            instance_type="ml.t3.medium", volume_size=20),
        res("aws_rds_cluster.db", "aws_rds_cluster")), TABLE)
    monthly = {line.address: line.monthly for line in report.lines}
    assert monthly == {"aws_kms_key.k": 1.0, "aws_nat_gateway.n": 32.85,
                       "aws_sagemaker_notebook_instance.nb": 39.3}
    assert report.usage_based == ["aws_s3_bucket.b"]
    assert report.unpriced == ["aws_rds_cluster.db (no price in the table)"]
    assert report.total == 73.15


@pytest.mark.hidden
@pytest.mark.points(2)
def test_unknown_instance_types_are_unpriced_not_zero() -> None:
    endpoint = [dict(r) for r in ENDPOINT]
    endpoint[0] = res("c", "aws_sagemaker_endpoint_configuration", name="cfg",
                      production_variants=[{"instance_type": "ml.p5.48xlarge",
                                            "initial_instance_count": 1}])
    report = price_plan(plan(*endpoint), TABLE)
    assert report.lines == []
    assert report.unpriced == ["module.p.aws_sagemaker_endpoint.e (no hosting price for "
                               "ml.p5.48xlarge)"]


@pytest.mark.points(2)
def test_delta_against_last_applied() -> None:
    now = price_plan(plan(res("aws_nat_gateway.a", "aws_nat_gateway"),
                          res("aws_nat_gateway.b", "aws_nat_gateway")), TABLE)
    before = price_plan(plan(res("aws_nat_gateway.a", "aws_nat_gateway"),
                             res("aws_kms_key.k", "aws_kms_key")), TABLE).as_dict()
    change = delta(now, before)
    assert change == {"previous_total": 33.85, "total_delta": 31.85,
                      "by_resource": {"aws_kms_key.k": -1.0, "aws_nat_gateway.b": 32.85}}
    assert delta(now, None)["previous_total"] is None


@pytest.mark.points(1)
def test_shipped_table_is_dated_and_covers_the_platform() -> None:
    table = load_price_table()
    assert table.as_of == "2026-11-01"
    for instance in ("ml.t2.medium", "ml.m5.large", "ml.m5.xlarge"):
        assert instance in table.sagemaker_hosting
    assert {"ml.t3.medium", "ml.t3.large"} <= set(table.sagemaker_notebook)


@pytest.mark.points(1)
def test_bad_table_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text("as_of: 2026-01-01\nregion: x\nhourly: {aws_nat_gateway: cheap}\n")
    with pytest.raises(InputError, match=r"prices\.yaml: invalid price table"):
        load_price_table(bad)
    with pytest.raises(InputError, match="cannot read"):
        load_price_table(tmp_path / "missing.yaml")
