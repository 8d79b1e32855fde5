"""The service pointer in DNS: a Route53 TXT record `host=... port=...` for the primary.

A real deployment points a CNAME/A record at the database host; one TXT record carries the
port too, which matters here because every cluster on loopback differs only by port.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from drkit.errors import UnavailableError


class ServiceRecord:
    def __init__(self, endpoint_url: str, region: str, zone: str, record: str) -> None:
        kwargs: dict[str, Any] = {"region_name": region}
        if endpoint_url:
            kwargs.update(endpoint_url=endpoint_url, aws_access_key_id="testing",
                          aws_secret_access_key="testing")  # noqa: S106 (moto)
        self.client = boto3.client("route53", **kwargs)
        self.zone = zone.rstrip(".") + "."
        self.record = record.rstrip(".") + "."

    def _zone_id(self) -> str:
        try:
            zones = self.client.list_hosted_zones_by_name(DNSName=self.zone)["HostedZones"]
            for zone in zones:
                if zone["Name"] == self.zone:
                    return str(zone["Id"])
            created = self.client.create_hosted_zone(Name=self.zone, CallerReference=self.zone)
            return str(created["HostedZone"]["Id"])
        except (BotoCoreError, ClientError) as exc:
            raise UnavailableError(f"Route53 unreachable: {type(exc).__name__}") from exc

    def point_to(self, host: str, port: int) -> None:
        change: Any = {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": self.record, "Type": "TXT", "TTL": 5,
            "ResourceRecords": [{"Value": f'"host={host} port={port}"'}]}}
        try:
            self.client.change_resource_record_sets(HostedZoneId=self._zone_id(),
                                                    ChangeBatch={"Changes": [change]})
        except (BotoCoreError, ClientError) as exc:
            raise UnavailableError(f"Route53 update failed: {type(exc).__name__}") from exc

    def current(self) -> tuple[str, int] | None:
        try:
            records = self.client.list_resource_record_sets(
                HostedZoneId=self._zone_id())["ResourceRecordSets"]
        except (BotoCoreError, ClientError) as exc:
            raise UnavailableError(f"Route53 unreachable: {type(exc).__name__}") from exc
        for item in records:
            if item["Name"] == self.record and item["Type"] == "TXT":
                fields = dict(part.split("=", 1) for part in
                              item["ResourceRecords"][0]["Value"].strip('"').split())
                return fields["host"], int(fields["port"])
        return None
