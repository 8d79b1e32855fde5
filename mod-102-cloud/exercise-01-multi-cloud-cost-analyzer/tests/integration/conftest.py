"""Integration helpers: boto3 clients on the shared moto server, queued Cost Explorer pages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiinfra_shared.procs import MotoServer


def queue_ce_results(moto: MotoServer, *results: dict[str, Any]) -> None:
    """Queue Cost Explorer answers: each distinct request body takes the next one."""
    response = httpx.post(f"{moto.endpoint_url}/moto-api/static/ce/cost-and-usage-results",
                          json={"results": list(results)}, timeout=10)
    response.raise_for_status()


def ce_group(keys: list[str], unblended: float, amortized: float | None = None
             ) -> dict[str, Any]:
    metrics = {"UnblendedCost": {"Amount": f"{unblended}", "Unit": "USD"},
               "AmortizedCost": {"Amount": f"{amortized if amortized is not None else unblended}",
                                 "Unit": "USD"},
               "UsageQuantity": {"Amount": "24", "Unit": "N/A"}}
    return {"Keys": keys, "Metrics": metrics}


def ce_day(day: str, end: str, groups: list[dict[str, Any]], estimated: bool = False
           ) -> dict[str, Any]:
    return {"TimePeriod": {"Start": day, "End": end}, "Total": {}, "Groups": groups,
            "Estimated": estimated}


@pytest.fixture
def ce_client(moto_server: MotoServer) -> Any:
    return moto_server.client("ce")


@pytest.fixture
def s3_client(moto_server: MotoServer) -> Any:
    return moto_server.client("s3")
