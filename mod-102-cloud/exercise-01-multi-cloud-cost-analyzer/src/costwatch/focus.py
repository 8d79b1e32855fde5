"""FOCUS 1.2: the column set costwatch stores, and normalisation of any input table to it.

FOCUS (FinOps Open Cost and Usage Specification) is the billing schema all three clouds can
export. Every source adapter produces an Arrow table with (some of) these columns; `normalize`
checks the mandatory ones, casts every column to its FOCUS type, fills the optional ones and
converts costs to the reporting currency. It is pure: no I/O, so it is tested on literals.

Columns starting with `x_` are costwatch's own (FOCUS reserves that prefix for extensions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from costwatch.currency import RateTable
from costwatch.errors import CurrencyError, SchemaError

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    mandatory: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("BillingAccountId", pa.string()),
    Column("BillingAccountName", pa.string()),
    Column("SubAccountId", pa.string()),
    Column("SubAccountName", pa.string()),
    Column("ProviderName", pa.string(), mandatory=True),
    Column("PublisherName", pa.string()),
    Column("InvoiceIssuerName", pa.string()),
    Column("BillingPeriodStart", TS),
    Column("BillingPeriodEnd", TS),
    Column("ChargePeriodStart", TS, mandatory=True),
    Column("ChargePeriodEnd", TS, mandatory=True),
    Column("ChargeCategory", pa.string()),
    Column("ChargeClass", pa.string()),
    Column("ChargeDescription", pa.string()),
    Column("ChargeFrequency", pa.string()),
    Column("BilledCost", pa.float64(), mandatory=True),
    Column("EffectiveCost", pa.float64(), mandatory=True),
    Column("ListCost", pa.float64()),
    Column("ContractedCost", pa.float64()),
    Column("BillingCurrency", pa.string(), mandatory=True),
    Column("ServiceName", pa.string(), mandatory=True),
    Column("ServiceCategory", pa.string()),
    Column("ServiceSubcategory", pa.string()),
    Column("InvoiceId", pa.string()),
    Column("ResourceId", pa.string()),
    Column("ResourceName", pa.string()),
    Column("ResourceType", pa.string()),
    Column("RegionId", pa.string()),
    Column("RegionName", pa.string()),
    Column("AvailabilityZone", pa.string()),
    Column("SkuId", pa.string()),
    Column("PricingCategory", pa.string()),
    Column("PricingQuantity", pa.float64()),
    Column("PricingUnit", pa.string()),
    Column("ConsumedQuantity", pa.float64()),
    Column("ConsumedUnit", pa.string()),
    Column("CommitmentDiscountId", pa.string()),
    Column("Tags", pa.string()),
    # costwatch extensions
    Column("x_Source", pa.string()),
    Column("x_Estimated", pa.bool_()),
    Column("x_OriginalCurrency", pa.string()),
    Column("x_ExchangeRate", pa.float64()),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
MANDATORY = tuple(c.name for c in COLUMNS if c.mandatory)
SCHEMA = pa.schema([pa.field(c.name, c.type) for c in COLUMNS])
# FOCUS requires a ServiceCategory for every row; sources that lack one (Cost Explorer, the
# Azure query, the standard GCP export) get it from the service name, else "Other".
SERVICE_CATEGORIES = {
    "Amazon Elastic Compute Cloud": "Compute",
    "Amazon Elastic Compute Cloud - Compute": "Compute", "AWS Lambda": "Compute",
    "Amazon Elastic Kubernetes Service": "Compute", "Compute Engine": "Compute",
    "Virtual Machines": "Compute", "Kubernetes Engine": "Compute",
    "Amazon Simple Storage Service": "Storage", "Cloud Storage": "Storage",
    "Storage": "Storage", "Amazon Elastic Block Store": "Storage",
    "Amazon Relational Database Service": "Databases", "Amazon DynamoDB": "Databases",
    "Azure SQL Database": "Databases", "Cloud SQL": "Databases",
    "Amazon SageMaker": "AI and Machine Learning", "Vertex AI": "AI and Machine Learning",
    "Azure Machine Learning": "AI and Machine Learning", "BigQuery": "Analytics",
    "Amazon Athena": "Analytics",
}
COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
FOCUS_COLUMNS = tuple(n for n in COLUMN_NAMES if not n.startswith("x_"))


def _cast(name: str, array: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Cast one column, naming the column and a bad value when it cannot be done."""
    if array.type == target:
        return array
    if pa.types.is_null(array.type):
        return pa.chunked_array([pa.nulls(len(array), target)])
    if target == TS:
        return _cast_timestamp(name, array)
    if pa.types.is_string(target) and pa.types.is_dictionary(array.type):
        array = pc.cast(array, array.type.value_type)
    try:
        return pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(f"column {name}: expected {target}, {_first_bad(array, target)}"
                          ) from exc


def _cast_timestamp(name: str, array: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(array.type):
        if array.type.tz is None:  # FOCUS timestamps are UTC; naive ones are read as UTC
            return pc.assume_timezone(pc.cast(array, pa.timestamp("us")), "UTC")
        return pc.cast(array, TS)
    if pa.types.is_date(array.type):
        return pc.assume_timezone(pc.cast(pc.cast(array, pa.date32()), pa.timestamp("us")),
                                  "UTC")
    if pa.types.is_dictionary(array.type):
        array = pc.cast(array, array.type.value_type)
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        raise SchemaError(f"column {name}: expected a timestamp, got {array.type}")
    text = array
    try:
        # ISO 8601: "2024-05-01", "2024-05-01T00:00:00Z", "2024-05-01 00:00:00+00:00"
        return pc.cast(text, TS)
    except pa.ArrowInvalid:
        try:
            naive = pc.cast(text, pa.timestamp("us"))
            return pc.assume_timezone(naive, "UTC")
        except pa.ArrowInvalid as exc:
            raise SchemaError(f"column {name}: expected an ISO 8601 timestamp, "
                              f"{_first_bad(array, pa.timestamp('us'))}") from exc


def _first_bad(array: pa.ChunkedArray, target: pa.DataType) -> str:
    for value in array.to_pylist():
        if value is None:
            continue
        try:
            pc.cast(pa.array([value]), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return f"got {value!r}"
    return f"got type {array.type}"


def _tags_as_json(name: str, array: pa.ChunkedArray) -> pa.ChunkedArray:
    """FOCUS Tags is a JSON object; accept Arrow maps/structs too and check strings parse."""
    if pa.types.is_map(array.type) or pa.types.is_struct(array.type):
        values: list[str | None] = []
        for item in array.to_pylist():
            if item is None:
                values.append(None)
            elif isinstance(item, list):
                values.append(json.dumps(dict(item), sort_keys=True))
            else:
                values.append(json.dumps({k: v for k, v in item.items() if v is not None},
                                         sort_keys=True))
        return pa.chunked_array([pa.array(values, pa.string())])
    array = _cast(name, array, pa.string())
    for value in pc.unique(array).to_pylist():
        if value is None or value == "":
            continue
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"column Tags: not a JSON object: {value[:60]!r}") from exc
        if not isinstance(parsed, dict):
            raise SchemaError(f"column Tags: not a JSON object: {value[:60]!r}")
    return array


def rows_to_table(rows: list[dict[str, object]]) -> pa.Table:
    """Row dicts -> Arrow with the union of their keys (`from_pylist` keeps the first's)."""
    names = list(dict.fromkeys(key for r in rows for key in r))
    return pa.table({name: [r.get(name) for r in rows] for name in names})


def _categories(services: pa.ChunkedArray) -> pa.ChunkedArray:
    """ServiceCategory per row from SERVICE_CATEGORIES (vectorised over distinct names)."""
    names = pc.unique(services)
    categories = pa.array([SERVICE_CATEGORIES.get(n, "Other") for n in names.to_pylist()])
    return pc.take(categories, pc.index_in(services, names))


def cast_column(name: str, array: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Public form of the cast `normalize` uses (for adapters that look at one column)."""
    return _cast(name, array, target)


def _days_since_epoch(ts: pa.ChunkedArray) -> np.ndarray:
    micros = pc.cast(pc.cast(ts, pa.timestamp("us")), pa.int64())
    return np.asarray(micros.to_numpy(zero_copy_only=False) // 86_400_000_000, dtype=np.int64)


def filter_period(table: pa.Table, start: date, end: date) -> pa.Table:
    """Rows charged in [start, end); the whole table for the open range (date.min, date.max).

    Sources that hold more than the asked period (an export file, a month's object in S3)
    use it so a period's re-ingest never touches the neighbouring days.
    """
    if (start == date.min and end == date.max) or "ChargePeriodStart" not in table.column_names:
        return table  # normalize reports a missing column
    ts = _cast("ChargePeriodStart", table.column("ChargePeriodStart"), TS)
    lo = pa.scalar(datetime(start.year, start.month, start.day, tzinfo=UTC), TS)
    hi = pa.scalar(datetime(end.year, end.month, end.day, tzinfo=UTC), TS)
    return table.filter(pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi)))


def convert_currency(table: pa.Table, rates: RateTable, reporting: str) -> pa.Table:
    """Costs in `reporting` currency, each row at the rate valid on its charge day.

    The original currency and the rate used are kept in x_OriginalCurrency / x_ExchangeRate
    so a report can always be traced back to the invoice.
    """
    # BEGIN SOLUTION: per currency, each row's rate on its day, scale the cost columns
    currencies = table.column("BillingCurrency")
    days = _days_since_epoch(table.column("ChargePeriodStart"))
    factor = np.ones(len(table), dtype=np.float64)
    for currency in pc.unique(currencies).to_pylist():
        if currency is None:
            raise SchemaError("column BillingCurrency: empty value")
        if currency == reporting:
            continue
        mask = np.asarray(pc.equal(currencies, currency).to_numpy(zero_copy_only=False),
                          dtype=bool)
        first_day = date.fromordinal(date(1970, 1, 1).toordinal() + int(days[mask].min()))
        if not rates.has(currency, reporting):
            raise CurrencyError(f"mixed currencies: no {currency}->{reporting} rate in the "
                                f"currency table (first {currency} row {first_day})")
        factor[mask] = rates.lookup(currency, reporting, days[mask])
    original = currencies
    out = table
    for name in COST_COLUMNS:
        idx = out.schema.get_field_index(name)
        scaled = pc.multiply(out.column(name), pa.array(factor))
        out = out.set_column(idx, name, scaled)
    out = out.set_column(out.schema.get_field_index("BillingCurrency"), "BillingCurrency",
                         pa.chunked_array([pa.array([reporting] * len(out), pa.string())]))
    out = out.set_column(out.schema.get_field_index("x_OriginalCurrency"),
                         "x_OriginalCurrency", original)
    return out.set_column(out.schema.get_field_index("x_ExchangeRate"), "x_ExchangeRate",
                          pa.chunked_array([pa.array(factor)]))
    # END SOLUTION


def normalize(table: pa.Table, *, source: str, rates: RateTable,
              reporting_currency: str = "USD", now: datetime | None = None) -> pa.Table:
    """Any billing table -> a table with exactly `SCHEMA`, costs in the reporting currency.

    Raises SchemaError for missing mandatory columns, values of the wrong type, charges
    dated in the future or ending before they start; CurrencyError when a currency has no
    rate. Defaults: ListCost/ContractedCost = EffectiveCost, ChargeCategory = "Usage".
    """
    # BEGIN SOLUTION: check mandatory columns, cast types, fill defaults, convert currency
    present = set(table.column_names)
    missing = [name for name in MANDATORY if name not in present]
    if missing:
        raise SchemaError(f"missing mandatory FOCUS column(s): {', '.join(missing)}")
    n = len(table)
    columns: dict[str, pa.ChunkedArray] = {}
    for column in COLUMNS:
        if column.name in present:
            raw = table.column(column.name)
            if column.name == "Tags":
                columns[column.name] = _tags_as_json(column.name, raw)
            else:
                columns[column.name] = _cast(column.name, raw, column.type)
        else:
            columns[column.name] = pa.chunked_array([pa.nulls(n, column.type)])
    for name in MANDATORY:
        nulls = columns[name].null_count
        if nulls:
            raise SchemaError(f"column {name}: {nulls} empty value(s) in a mandatory column")

    def fill(name: str, default: pa.ChunkedArray | pa.Scalar) -> None:
        columns[name] = pc.coalesce(columns[name], default)

    fill("ListCost", columns["EffectiveCost"])
    fill("ContractedCost", columns["EffectiveCost"])
    fill("ChargeCategory", pa.scalar("Usage"))
    fill("ChargeFrequency", pa.scalar("Usage-Based"))
    fill("PublisherName", columns["ProviderName"])
    fill("InvoiceIssuerName", columns["ProviderName"])
    fill("SubAccountId", columns["BillingAccountId"])
    fill("BillingAccountId", columns["SubAccountId"])
    fill("x_Estimated", pa.scalar(False))
    fill("ServiceCategory", _categories(columns["ServiceName"]))
    fill("ServiceSubcategory", pc.binary_join_element_wise(
        "Other (", columns["ServiceCategory"], ")", ""))
    fill("ChargeDescription", columns["ServiceName"])
    columns["x_Source"] = pa.chunked_array([pa.array([source] * n, pa.string())])
    columns["Tags"] = pc.coalesce(columns["Tags"], pa.scalar("{}"))
    columns["BillingCurrency"] = pc.utf8_upper(columns["BillingCurrency"])

    starts, ends = columns["ChargePeriodStart"], columns["ChargePeriodEnd"]
    if n and pc.any(pc.less(ends, starts)).as_py():
        raise SchemaError("column ChargePeriodEnd: a charge ends before it starts")
    moment = now or datetime.now(UTC)
    if n and pc.max(starts).as_py() > moment:
        raise SchemaError(f"charges dated in the future (latest ChargePeriodStart "
                          f"{pc.max(starts).as_py():%Y-%m-%d})")
    month_start = pc.floor_temporal(starts, unit="month")
    fill("BillingPeriodStart", month_start)
    columns["BillingPeriodEnd"] = pc.coalesce(
        columns["BillingPeriodEnd"], pc.ceil_temporal(ends, unit="month"))

    normalized = pa.table([columns[c.name] for c in COLUMNS], schema=SCHEMA)
    return convert_currency(normalized, rates, reporting_currency.upper())
    # END SOLUTION
