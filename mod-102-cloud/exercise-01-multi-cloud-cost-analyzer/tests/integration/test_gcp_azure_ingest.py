"""GCP and Azure: their real SDK clients over HTTP to a local stand-in (pytest-httpserver)
serving hand-written payloads in the documented shapes. Asserts on what the SDKs sent."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, billing_v1
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from costwatch import analysis
from costwatch.adapters.azure import AzureCostSource, StaticTokenCredential, make_client
from costwatch.adapters.gcp import BigQueryBillingSource
from costwatch.analysis import Filters
from costwatch.errors import ProviderError
from costwatch.ingest import Period, ingest
from costwatch.store import Store
from tests.conftest import NOW, usd_rates

pytestmark = pytest.mark.integration

COMPUTE = "6F81-5844-456A"


def _endpoint(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def _bq_field(name: str, kind: str) -> dict[str, str]:
    return {"name": name, "type": kind, "mode": "NULLABLE"}


def bq_response(rows: list[list[Any]]) -> dict[str, Any]:
    fields = [_bq_field("day", "DATE"), _bq_field("billing_account_id", "STRING"),
              _bq_field("service", "STRING"), _bq_field("project_id", "STRING"),
              _bq_field("project_name", "STRING"), _bq_field("region", "STRING"),
              _bq_field("sku_id", "STRING"), _bq_field("currency", "STRING"),
              _bq_field("label_0", "STRING"), _bq_field("cost", "FLOAT"),
              _bq_field("effective_cost", "FLOAT"), _bq_field("pricing_quantity", "FLOAT"),
              _bq_field("pricing_unit", "STRING")]
    return {"kind": "bigquery#queryResponse", "jobComplete": True,
            "schema": {"fields": fields}, "totalRows": str(len(rows)),
            "rows": [{"f": [{"v": None if v is None else str(v)} for v in r]} for r in rows],
            "jobReference": {"projectId": "billing-proj", "jobId": "job-1", "location": "US"}}


SKUS = {"skus": [{
    "name": f"services/{COMPUTE}/skus/CP-N1", "skuId": "CP-N1", "description": "N1 core",
    "pricingInfo": [{"pricingExpression": {"usageUnit": "h", "tieredRates": [
        {"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": "0",
                                              "nanos": 50000000}}]}}]}]}


@pytest.fixture
def bq_source(httpserver: HTTPServer) -> BigQueryBillingSource:
    options = {"api_endpoint": _endpoint(httpserver)}
    client = bigquery.Client(project="billing-proj", credentials=AnonymousCredentials(),
                             client_options=options)
    catalog = billing_v1.CloudCatalogClient(transport="rest",
                                            credentials=AnonymousCredentials(),
                                            client_options=options)
    return BigQueryBillingSource(client, "billing-proj.billing.gcp_billing_export_v1_X",
                                 labels=["team"], catalog=catalog,
                                 catalog_services=[COMPUTE])


@pytest.mark.points(5)
def test_bigquery_export_with_catalog_list_prices(httpserver: HTTPServer, store: Store,
                                                  bq_source: BigQueryBillingSource) -> None:
    httpserver.expect_request("/bigquery/v2/projects/billing-proj/queries",
                              method="POST").respond_with_json(bq_response([
        ["2026-04-01", "0A-1", "Compute Engine", "ml-prod", "ML prod", "us-central1",
         "CP-N1", "USD", "ml", 40.0, 36.0, 1000.0, "hour"],
        ["2026-04-02", "0A-1", "Compute Engine", "ml-prod", "ML prod", "us-central1",
         "CP-N1", "USD", None, 44.0, 44.0, 1100.0, "hour"],
        ["2026-04-02", "0A-1", "BigQuery", "data", "Data", None, "BQ-A", "EUR", None,
         10.0, 10.0, 2.0, "tebibyte"]]))
    httpserver.expect_request(f"/v1/services/{COMPUTE}/skus", method="GET"
                              ).respond_with_json(SKUS)
    ingest(store, bq_source, Period(date(2026, 4, 1), date(2026, 4, 3)), usd_rates(), now=NOW)

    query = next(json.loads(r.get_data()) for r, _ in httpserver.log
                 if r.path.endswith("/queries"))
    assert "`billing-proj.billing.gcp_billing_export_v1_X`" in query["query"]
    assert query["useLegacySql"] is False and query["parameterMode"] == "NAMED"
    params = {p["name"]: p["parameterValue"]["value"] for p in query["queryParameters"]}
    assert params["start"].startswith("2026-04-01 00:00:00")
    assert params["end"].startswith("2026-04-03 00:00:00")
    assert params["label_0"] == "team"

    april = Filters(date(2026, 4, 1), date(2026, 4, 3))
    by_service = {r["key"]: r["cost"] for r in analysis.rollup(store, "service", april)}
    assert by_service == {"Compute Engine": 80.0, "BigQuery": pytest.approx(11.0)}  # EUR 1.1
    list_cost = store.con.execute('SELECT sum("ListCost") FROM costs WHERE "SkuId" = ?',
                                  ["CP-N1"]).fetchone()
    assert list_cost == (pytest.approx(0.05 * 2100),)  # catalog price x pricing units
    tags = {r["key"]: r["cost"] for r in analysis.rollup(store, "tag:team", april)}
    assert tags["ml"] == 36.0


@pytest.mark.points(2)
@pytest.mark.hidden
def test_bigquery_403_is_one_line(httpserver: HTTPServer, store: Store,
                                  bq_source: BigQueryBillingSource) -> None:
    httpserver.expect_request("/bigquery/v2/projects/billing-proj/queries").respond_with_json(
        {"error": {"code": 403, "message": "Access Denied: Table billing: User does not have "
                   "permission to query table", "status": "PERMISSION_DENIED"}}, status=403)
    with pytest.raises(ProviderError, match=r"^gcp: .*Access Denied.*\(HTTP 403\)$"):
        ingest(store, bq_source, Period(date(2026, 4, 1), date(2026, 4, 3)), usd_rates(),
               now=NOW)
    assert store.row_count() == 0


QUERY_PATH = "/subscriptions/sub-1/providers/Microsoft.CostManagement/query"
COLUMNS = [{"name": "Cost", "type": "Number"}, {"name": "UsageDate", "type": "Number"},
           {"name": "ServiceName", "type": "String"},
           {"name": "ResourceGroupName", "type": "String"},
           {"name": "Currency", "type": "String"}]


def azure_page(rows: list[list[Any]], next_link: str | None) -> dict[str, Any]:
    return {"id": "q1", "name": "q1", "type": "Microsoft.CostManagement/query",
            "properties": {"nextLink": next_link, "columns": COLUMNS, "rows": rows}}


@pytest.mark.points(5)
def test_azure_query_follows_next_link_and_waits_on_429(httpserver: HTTPServer,
                                                        store: Store) -> None:
    calls: list[Request] = []
    next_link = httpserver.url_for(QUERY_PATH) + "?api-version=2025-03-01&$skiptoken=p2"

    def handler(request: Request) -> Response:
        calls.append(request)
        if len(calls) == 1:
            return Response(json.dumps({"error": {"code": "429", "message": "Too many"}}),
                            status=429, content_type="application/json",
                            headers={"x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after":
                                     "7"})
        if request.args.get("$skiptoken") == "p2":
            return Response(json.dumps(azure_page([[30.0, 20260402, "Storage", "rg-data",
                                                    "EUR"]], None)),
                            content_type="application/json")
        return Response(json.dumps(azure_page([
            [100.0, 20260401, "Virtual Machines", "rg-ml", "USD"],
            [20.0, 20260402, "Virtual Machines", "rg-ml", "USD"]], next_link)),
            content_type="application/json")

    httpserver.expect_request(QUERY_PATH, method="POST").respond_with_handler(handler)
    waits: list[float] = []
    client = make_client(StaticTokenCredential("token-abc"), base_url=_endpoint(httpserver))
    source = AzureCostSource(client, "/subscriptions/sub-1", sleep=waits.append)
    ingest(store, source, Period(date(2026, 4, 1), date(2026, 4, 3)), usd_rates(), now=NOW)

    assert waits == [7.0] and len(calls) == 3
    first = json.loads(calls[1].get_data())
    assert calls[1].headers["Authorization"] == "Bearer token-abc"
    assert first["dataset"]["granularity"] == "Daily"
    assert [g["name"] for g in first["dataset"]["grouping"]] == ["ServiceName",
                                                                 "ResourceGroupName"]
    assert first["timePeriod"]["from"].startswith("2026-04-01T00:00:00")
    assert first["timePeriod"]["to"].startswith("2026-04-02T23:59:59")
    assert json.loads(calls[2].get_data()) == first  # the next page: same body, POSTed
    april = Filters(date(2026, 4, 1), date(2026, 4, 3))
    assert analysis.totals(store, april) == {"Microsoft": pytest.approx(153.0)}
    accounts = {r["key"] for r in analysis.rollup(store, "account", april)}
    assert accounts == {"sub-1"}


@pytest.mark.points(2)
def test_azure_403_is_one_line_and_store_unchanged(httpserver: HTTPServer,
                                                   store: Store) -> None:
    httpserver.expect_request(QUERY_PATH, method="POST").respond_with_json(
        {"error": {"code": "AuthorizationFailed", "message": "The client does not have "
                   "authorization to perform action"}}, status=403)
    client = make_client(StaticTokenCredential("t"), base_url=_endpoint(httpserver))
    with pytest.raises(ProviderError, match=r"^azure: .*authorization.*\(HTTP 403\)$"):
        ingest(store, AzureCostSource(client, "/subscriptions/sub-1"),
               Period(date(2026, 4, 1), date(2026, 4, 3)), usd_rates(), now=NOW)
    assert store.row_count() == 0
