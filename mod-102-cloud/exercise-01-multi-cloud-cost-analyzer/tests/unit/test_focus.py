"""FOCUS normalisation: mandatory columns, types, defaults, currency, bad input."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from costwatch.errors import CurrencyError, SchemaError
from costwatch.focus import SCHEMA, normalize
from tests.conftest import NOW, row, table, usd_rates

pytestmark = pytest.mark.points(2)


def test_normalize_fills_focus_schema_and_defaults() -> None:
    out = normalize(table([row("2026-05-01", 10.0, Tags={"team": "ml"})]), source="s",
                    rates=usd_rates(), now=NOW)
    assert out.schema == SCHEMA
    got = out.to_pylist()[0]
    assert got["ListCost"] == 10.0 and got["ContractedCost"] == 10.0
    assert got["ChargeCategory"] == "Usage" and got["x_Source"] == "s"
    assert got["BillingPeriodStart"].date() == date(2026, 5, 1)
    assert got["BillingPeriodEnd"].date() == date(2026, 6, 1)
    assert got["Tags"] == '{"team": "ml"}'


def test_string_columns_are_cast_like_a_csv_would_give_them() -> None:
    raw = pa.table({"ProviderName": ["AWS"], "ServiceName": ["S3"],
                    "ChargePeriodStart": ["2026-05-01T00:00:00Z"],
                    "ChargePeriodEnd": ["2026-05-02"], "BilledCost": ["1.25"],
                    "EffectiveCost": ["1.5"], "BillingCurrency": ["usd"]})
    got = normalize(raw, source="s", rates=usd_rates(), now=NOW).to_pylist()[0]
    assert got["BilledCost"] == 1.25 and got["BillingCurrency"] == "USD"
    assert got["ChargePeriodEnd"].date() == date(2026, 5, 2)


def test_missing_mandatory_columns_are_named() -> None:
    raw = table([row("2026-05-01", 1.0)]).drop_columns(["BilledCost", "ServiceName"])
    with pytest.raises(SchemaError, match="BilledCost, ServiceName"):
        normalize(raw, source="s", rates=usd_rates(), now=NOW)


def test_wrong_type_names_column_and_value() -> None:
    raw = table([row("2026-05-01", 1.0)])
    raw = raw.set_column(raw.schema.get_field_index("BilledCost"), "BilledCost",
                         pa.array(["12,5"]))
    with pytest.raises(SchemaError, match=r"BilledCost.*'12,5'"):
        normalize(raw, source="s", rates=usd_rates(), now=NOW)


def test_bad_tags_json_is_rejected() -> None:
    raw = table([row("2026-05-01", 1.0, Tags=None)]).append_column(
        "Tags", pa.array(["team=ml"]))
    with pytest.raises(SchemaError, match="Tags"):
        normalize(raw, source="s", rates=usd_rates(), now=NOW)


def test_future_charges_are_rejected() -> None:
    with pytest.raises(SchemaError, match="future"):
        normalize(table([row("2027-01-01", 1.0)]), source="s", rates=usd_rates(), now=NOW)


@pytest.mark.points(3)
def test_currency_uses_the_rate_valid_on_each_day() -> None:
    rows = [row("2026-05-31", 100.0, BillingCurrency="EUR"),
            row("2026-06-01", 100.0, BillingCurrency="EUR"),
            row("2026-06-01", 7.0)]
    out = normalize(table(rows), source="s", rates=usd_rates(), now=NOW).to_pylist()
    assert [round(r["BilledCost"], 6) for r in out] == [110.0, 120.0, 7.0]
    assert [r["x_OriginalCurrency"] for r in out] == ["EUR", "EUR", "USD"]
    assert {r["BillingCurrency"] for r in out} == {"USD"}


def test_mixed_currencies_without_a_rate_fail() -> None:
    rows = [row("2026-05-01", 1.0), row("2026-05-01", 1.0, BillingCurrency="JPY")]
    with pytest.raises(CurrencyError, match="JPY->USD"):
        normalize(table(rows), source="s", rates=usd_rates(), now=NOW)


@pytest.mark.hidden
def test_rate_missing_for_an_early_day_fails() -> None:
    with pytest.raises(CurrencyError, match="2025-12-31"):
        normalize(table([row("2025-12-31", 1.0, BillingCurrency="EUR")]), source="s",
                  rates=usd_rates(), now=NOW)
