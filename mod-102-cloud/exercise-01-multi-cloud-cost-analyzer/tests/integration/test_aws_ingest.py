"""AWS for real on moto: Cost Explorer paging and estimates, FOCUS Parquet exports in S3."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from aiinfra_shared.procs import MotoServer
from pytest_httpserver import HTTPServer

from costwatch import analysis
from costwatch.adapters.aws import CostExplorerSource, S3FocusSource
from costwatch.analysis import Filters
from costwatch.errors import ProviderError
from costwatch.ingest import Period, ingest
from costwatch.sample import generate
from costwatch.store import Store
from tests.conftest import NOW, usd_rates
from tests.integration.conftest import ce_day, ce_group, queue_ce_results

pytestmark = pytest.mark.integration


@pytest.mark.points(5)
def test_cost_explorer_pages_are_joined_and_estimates_flagged(
        moto_server: MotoServer, ce_client: Any, store: Store) -> None:
    page1 = {"ResultsByTime": [
        ce_day("2026-04-01", "2026-04-02", [
            ce_group(["Amazon Elastic Compute Cloud - Compute", "111111111111"], 100.0, 90.0),
            ce_group(["Amazon Simple Storage Service", "222222222222"], 5.5)])],
        "NextPageToken": "page-2", "DimensionValueAttributes": []}
    page2 = {"ResultsByTime": [
        ce_day("2026-04-02", "2026-04-03", [
            ce_group(["Amazon Elastic Compute Cloud - Compute", "111111111111"], 120.0)],
            estimated=True)], "DimensionValueAttributes": []}
    queue_ce_results(moto_server, page1, page2)
    source = CostExplorerSource(ce_client, ["SERVICE", "LINKED_ACCOUNT"])
    result = ingest(store, source, Period(date(2026, 4, 1), date(2026, 4, 3)), usd_rates(),
                    now=NOW)
    assert source.pages_read == 2 and result.rows == 3
    april = Filters(date(2026, 4, 1), date(2026, 4, 3))
    by_account = {r["key"]: r["cost"] for r in analysis.rollup(store, "account", april)}
    assert by_account == {"111111111111": 210.0, "222222222222": 5.5}  # EffectiveCost
    billed = Filters(date(2026, 4, 1), date(2026, 4, 3), metric="BilledCost")
    assert analysis.totals(store, billed) == {"AWS": 225.5}
    estimated = store.con.execute(
        'SELECT "ChargePeriodStart"::DATE FROM costs WHERE "x_Estimated"').fetchall()
    assert estimated == [(date(2026, 4, 2),)]


@pytest.mark.points(3)
def test_restated_estimate_replaces_the_day(moto_server: MotoServer, ce_client: Any,
                                            store: Store) -> None:
    day = {"ResultsByTime": [ce_day("2026-03-10", "2026-03-11", [
        ce_group(["AWS Lambda", "111111111111"], 10.0)], estimated=True)]}
    queue_ce_results(moto_server, day)
    source = CostExplorerSource(ce_client, ["SERVICE", "LINKED_ACCOUNT"])
    ingest(store, source, Period(date(2026, 3, 10), date(2026, 3, 11)), usd_rates(), now=NOW)
    # Same request again would get the same answer from moto; a tag grouping differs.
    queue_ce_results(moto_server, {"ResultsByTime": [ce_day("2026-03-10", "2026-03-11", [
        ce_group(["AWS Lambda", "team$ml"], 12.5)])]})
    restated = CostExplorerSource(ce_client, ["SERVICE", "tag:team"])
    ingest(store, restated, Period(date(2026, 3, 10), date(2026, 3, 11)), usd_rates(),
           now=NOW)
    rows = store.con.execute('SELECT "BilledCost", "x_Estimated", "Tags" FROM costs').fetchall()
    assert rows == [(12.5, False, '{"team": "ml"}')]  # the final figure, once


@pytest.mark.points(3)
def test_focus_parquet_exports_in_s3(s3_client: Any, store: Store) -> None:
    s3_client.create_bucket(Bucket="billing-exports")
    for month, seed in (("2026-05", 1), ("2026-06", 2)):
        start = date.fromisoformat(f"{month}-01")
        table, _ = generate(start, 30, 3, seed=seed, providers=("AWS",))
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        s3_client.put_object(Bucket="billing-exports", Key=f"focus/{month}/part-0.parquet",
                             Body=buffer.getvalue())
    source = S3FocusSource(s3_client, "billing-exports", "focus/")
    result = ingest(store, source, Period(date(2026, 5, 1), date(2026, 7, 1)), usd_rates(),
                    now=NOW)
    assert source.objects_read == ["focus/2026-05/part-0.parquet",
                                   "focus/2026-06/part-0.parquet"]
    assert result.rows == 2 * 30 * 3
    assert store.date_span() == (date(2026, 5, 1), date(2026, 6, 30))


@pytest.mark.points(2)
@pytest.mark.hidden
def test_access_denied_is_one_provider_error(httpserver: HTTPServer, store: Store) -> None:
    httpserver.expect_request("/", method="POST").respond_with_data(
        json.dumps({"__type": "AccessDeniedException",
                    "Message": "User is not authorized to perform ce:GetCostAndUsage"}),
        status=403, content_type="application/x-amz-json-1.1")
    client = boto3.client("ce", endpoint_url=httpserver.url_for("/").rstrip("/"),
                          region_name="us-east-1", aws_access_key_id="a",
                          aws_secret_access_key="b")
    with pytest.raises(ProviderError, match=r"AccessDenied.*HTTP 403") as err:
        ingest(store, CostExplorerSource(client), Period(date(2026, 5, 1), date(2026, 5, 2)),
               usd_rates(), now=NOW)
    assert "\n" not in str(err.value)
    assert store.row_count() == 0


@pytest.mark.hidden
@pytest.mark.points(3)
def test_export_focus_to_s3_round_trips(moto_server: MotoServer, s3_client: Any,
                                        tmp_path: Any) -> None:
    from click.testing import CliRunner

    from costwatch.cli import cli

    store_path = tmp_path / "costs.duckdb"
    table, _ = generate(date(2026, 8, 1), 10, 4, seed=5, providers=("AWS", "Microsoft"))
    source = tmp_path / "focus.parquet"
    pq.write_table(table, source)
    s3_client.create_bucket(Bucket="focus-out")
    env = {**moto_server.env, "COSTWATCH_STORE": str(store_path),
           "COSTWATCH_AWS__ENDPOINT_URL": moto_server.endpoint_url}
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", "file", str(source)], env=env).exit_code == 0
    result = runner.invoke(cli, ["export", "--focus", "--out",
                                 "s3://focus-out/exports/costwatch.parquet"], env=env)
    assert result.exit_code == 0, result.output
    body = s3_client.get_object(Bucket="focus-out", Key="exports/costwatch.parquet")["Body"]
    exported = pq.read_table(io.BytesIO(body.read()))
    assert len(exported) == 2 * 4 * 10
    assert sum(exported.column("BilledCost").to_pylist()) == pytest.approx(
        sum(table.column("BilledCost").to_pylist()))
    # What we export ingests again unchanged: FOCUS in, FOCUS out.
    with Store(":memory:") as again:
        ingest(again, S3FocusSource(s3_client, "focus-out", "exports/"), None, usd_rates(),
               now=NOW)
        assert again.row_count() == len(exported)
