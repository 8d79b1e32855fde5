"""The CLI end to end on files: ingest, rollups, JSON output, and bad input (one line, a
documented exit code, no traceback, the store unchanged)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from costwatch import __version__
from costwatch.cli import cli
from costwatch.store import Store
from tests.conftest import Lazy, row, table

SAMPLE = resources.files("costwatch") / "data" / "sample"


def invoke(store: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"COSTWATCH_STORE": str(store), **env},
                              catch_exceptions=False)


def one_line_error(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], lines
    assert "Traceback" not in result.output


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    pacsv.write_csv(table(rows), path)
    return path


@pytest.fixture
def sample_store_lazy(tmp_path: Path) -> Lazy[Path]:
    return Lazy(lambda: _sample_store(tmp_path))


def _sample_store(tmp_path: Path) -> Path:
    store = tmp_path / "costs.duckdb"
    for name in ("aws-focus.csv", "gcp-focus.parquet", "azure-focus.parquet"):
        with resources.as_file(SAMPLE / name) as path:
            result = invoke(store, "ingest", "file", str(path), "--json")
            assert result.exit_code == 0, result.output
    return store


def test_version_and_entry_point() -> None:
    assert __version__ in CliRunner().invoke(cli, ["--version"]).output
    exe = Path(sys.executable).parent / "costwatch"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "Examples:" in result.stdout


@pytest.mark.points(3)
def test_ingest_sample_and_totals_json(sample_store_lazy: Lazy[Path]) -> None:
    sample_store = sample_store_lazy.get()
    result = invoke(sample_store, "totals", "--start", "2026-10-01", "--end", "2026-11-01",
                    "--json")
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r["cost"] for r in json.loads(result.output)["rows"]}
    assert set(rows) == {"AWS", "Google Cloud", "Microsoft"}
    gcp = pq.read_table(str(SAMPLE / "gcp-focus.parquet")).to_pandas()
    october = gcp[gcp["ChargePeriodStart"].dt.month == 10]["EffectiveCost"].sum()
    assert rows["Google Cloud"] == pytest.approx(october)
    azure = pq.read_table(str(SAMPLE / "azure-focus.parquet")).to_pandas()
    eur = azure[azure["ChargePeriodStart"].dt.month == 10]["EffectiveCost"].sum()
    assert rows["Microsoft"] == pytest.approx(eur * 1.10)  # bundled EUR rate from 2026-10-01


@pytest.mark.points(2)
def test_reingest_is_idempotent_via_cli(sample_store_lazy: Lazy[Path]) -> None:
    sample_store = sample_store_lazy.get()
    with resources.as_file(SAMPLE / "aws-focus.csv") as path:
        result = invoke(sample_store, "ingest", "file", str(path), "--json")
    assert json.loads(result.output)["replaced"] == 488
    with Store(sample_store, read_only=True) as store:
        assert store.row_count() == 3 * 488


@pytest.mark.points(2)
def test_anomalies_and_allocation_json(sample_store_lazy: Lazy[Path]) -> None:
    sample_store = sample_store_lazy.get()
    found = json.loads(invoke(sample_store, "anomalies", "--json").output)
    assert [(a["day"], a["provider"], a["root_cause"]["resource"]) for a in found] == [
        ("2026-10-28", "AWS", "arn:aws:ec2:::instance/i-000004")]
    result = json.loads(invoke(sample_store, "allocate", "--json").output)
    assert {r["owner"] for r in result["rows"]} == {"ml", "data", "web"}
    totals = json.loads(invoke(sample_store, "totals", "--json").output)["rows"]
    assert sum(r["total"] for r in result["rows"]) == pytest.approx(
        sum(r["cost"] for r in totals))


@pytest.mark.points(2)
def test_recommend_json(sample_store_lazy: Lazy[Path]) -> None:
    sample_store = sample_store_lazy.get()
    out = json.loads(invoke(sample_store, "recommend", "--json").output)
    kinds = {(r["kind"], r["provider"]) for r in out["recommendations"]}
    assert kinds == {("commitment-coverage", p) for p in ("AWS", "Google Cloud", "Microsoft")}
    assert out["monthly_savings"] > 0


@pytest.mark.points(2)
def test_export_focus_file_is_typed(sample_store_lazy: Lazy[Path], tmp_path: Path) -> None:
    sample_store = sample_store_lazy.get()
    target = tmp_path / "focus.parquet"
    result = invoke(sample_store, "export", "--focus", "--out", str(target))
    assert result.exit_code == 0 and "exported 1464" in result.output
    exported = pq.read_table(target)
    schema = exported.schema
    assert schema.field("BilledCost").type == pa.float64()
    assert schema.field("ChargePeriodStart").type == pa.timestamp("us", tz="UTC")
    assert schema.metadata[b"focus_version"] == b"1.2"
    assert set(exported.column("BillingCurrency").to_pylist()) == {"USD"}


@pytest.mark.points(2)
def test_report_markdown_to_file(sample_store_lazy: Lazy[Path], tmp_path: Path) -> None:
    sample_store = sample_store_lazy.get()
    out = tmp_path / "report.md"
    result = invoke(sample_store, "report", "--format", "markdown", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# Cloud cost report") and "## Anomalies" in text


class TestBadInput:
    """Each failure: one line, its exit code, and the store exactly as before."""

    pytestmark = pytest.mark.points(1)

    def _rows(self, store: Path) -> int:
        with Store(store, read_only=True) as opened:
            return opened.row_count()

    def test_missing_columns(self, sample_store_lazy: Lazy[Path], tmp_path: Path) -> None:
        sample_store = sample_store_lazy.get()
        bad = write_csv(tmp_path / "bad.csv", [{"ProviderName": "AWS", "BilledCost": 1.0}])
        one_line_error(invoke(sample_store, "ingest", "file", str(bad)), 3,
                       "missing mandatory FOCUS column(s): ChargePeriodStart")
        assert self._rows(sample_store) == 3 * 488

    def test_wrong_type(self, sample_store_lazy: Lazy[Path], tmp_path: Path) -> None:
        sample_store = sample_store_lazy.get()
        rows = [row("2026-10-01", 1.0), row("2026-10-02", 2.0)]
        rows[0]["BilledCost"], rows[1]["BilledCost"] = "1.0", "twelve"
        bad = write_csv(tmp_path / "bad.csv", rows)
        one_line_error(invoke(sample_store, "ingest", "file", str(bad)), 3, "'twelve'")
        assert self._rows(sample_store) == 3 * 488

    @pytest.mark.hidden
    def test_mixed_currency_without_rate(self, sample_store_lazy: Lazy[Path],
                                         tmp_path: Path) -> None:
        sample_store = sample_store_lazy.get()
        rows = [row("2026-10-01", 1.0), row("2026-10-02", 2.0, BillingCurrency="JPY")]
        bad = write_csv(tmp_path / "bad.csv", rows)
        one_line_error(invoke(sample_store, "ingest", "file", str(bad)), 3, "JPY->USD")
        assert self._rows(sample_store) == 3 * 488

    def test_future_date_range(self, sample_store_lazy: Lazy[Path]) -> None:
        sample_store = sample_store_lazy.get()
        one_line_error(invoke(sample_store, "ingest", "aws", "--start", "2099-01-01",
                              "--end", "2099-02-01"), 2, "lies in the future")

    @pytest.mark.hidden
    def test_future_rows_in_a_file(self, sample_store_lazy: Lazy[Path], tmp_path: Path) -> None:
        sample_store = sample_store_lazy.get()
        bad = write_csv(tmp_path / "late.csv", [row("2099-01-01", 1.0)])
        one_line_error(invoke(sample_store, "ingest", "file", str(bad)), 3, "future")

    def test_no_store_yet(self, tmp_path: Path) -> None:
        one_line_error(invoke(tmp_path / "none.duckdb", "totals"), 4, "no store at")

    def test_bad_dimension(self, sample_store_lazy: Lazy[Path]) -> None:
        sample_store = sample_store_lazy.get()
        one_line_error(invoke(sample_store, "totals", "--by", "colour"), 2, "unknown dimension")

    def test_bad_config_value(self, sample_store_lazy: Lazy[Path]) -> None:
        sample_store = sample_store_lazy.get()
        one_line_error(invoke(sample_store, "totals", COSTWATCH_ANOMALY__Z_THRESHOLD="-1"), 3,
                       "z_threshold")
