"""The Dash dashboard over HTTP (werkzeug on loopback): callbacks answer with figures whose
sums match the store; one slow test drives it in a real Chromium with selenium."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiinfra_shared.procs import free_port
from werkzeug.serving import make_server

from costwatch import analysis
from costwatch.adapters.focus_file import FocusFileSource
from costwatch.analysis import Filters
from costwatch.config import Settings
from costwatch.dashboard import create_app
from costwatch.ingest import ingest
from costwatch.store import Store
from tests.conftest import Lazy

pytestmark = pytest.mark.integration
SAMPLE = resources.files("costwatch") / "data" / "sample"
OUTPUTS = "..spend.figure...movers.figure...allocation.figure...anomalies.data...total.children.."


def _serve(path: Path) -> dict[str, Any]:
    settings = Settings(store=path)
    with Store(path) as store:
        for name in ("aws-focus.csv", "gcp-focus.parquet", "azure-focus.parquet"):
            with resources.as_file(SAMPLE / name) as file:
                ingest(store, FocusFileSource(file), None, settings.rates())
    app = create_app(path, settings)
    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return {"url": f"http://127.0.0.1:{port}", "store": path, "server": server,
            "thread": thread}


@pytest.fixture(scope="module")
def dashboard_lazy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lazy[dict[str, Any]]]:
    """The sample in a store, served by werkzeug on loopback (started by the first test)."""
    lazy = Lazy(lambda: _serve(tmp_path_factory.mktemp("dash") / "costs.duckdb"))
    yield lazy
    if lazy.built:
        running = lazy.get()
        running["server"].shutdown()
        running["thread"].join(timeout=10)


def update(url: str, start: str, end: str, provider: list[str] | None = None,
           tag: str | None = None) -> dict[str, Any]:
    body = {"output": OUTPUTS, "outputs": [
        {"id": "spend", "property": "figure"}, {"id": "movers", "property": "figure"},
        {"id": "allocation", "property": "figure"}, {"id": "anomalies", "property": "data"},
        {"id": "total", "property": "children"}],
        "inputs": [{"id": "dates", "property": "start_date", "value": start},
                   {"id": "dates", "property": "end_date", "value": end},
                   {"id": "provider", "property": "value", "value": provider},
                   {"id": "account", "property": "value", "value": None},
                   {"id": "tag", "property": "value", "value": tag}],
        "changedPropIds": ["dates.start_date"], "state": []}
    response = httpx.post(f"{url}/_dash-update-component", json=body, timeout=60)
    response.raise_for_status()
    payload: dict[str, Any] = response.json()["response"]
    return payload


def figure_sum(figure: dict[str, Any]) -> float:
    return sum(sum(trace["y"]) for trace in figure["data"])


def store_total(path: Path, filters: Filters) -> float:
    with Store(path, read_only=True) as store:
        return sum(analysis.totals(store, filters).values())


@pytest.mark.points(4)
def test_spend_figure_sums_match_the_store(dashboard_lazy: Lazy[dict[str, Any]]) -> None:
    dashboard = dashboard_lazy.get()
    got = update(dashboard["url"], "2026-10-01", "2026-10-31")
    expected = store_total(dashboard["store"], Filters(date(2026, 10, 1), date(2026, 11, 1)))
    assert figure_sum(got["spend"]["figure"]) == pytest.approx(expected, abs=0.5)
    assert got["total"]["children"] == f"${expected:,.2f}"
    allocated = figure_sum(got["allocation"]["figure"])
    assert allocated == pytest.approx(expected, rel=1e-6)  # shared costs split, none lost
    assert [r["day"] for r in got["anomalies"]["data"]] == ["2026-10-28"]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_filters_narrow_the_figures(dashboard_lazy: Lazy[dict[str, Any]]) -> None:
    dashboard = dashboard_lazy.get()
    got = update(dashboard["url"], "2026-09-01", "2026-10-31", provider=["Google Cloud"],
                 tag="ml")
    expected = store_total(dashboard["store"], Filters(
        date(2026, 9, 1), date(2026, 11, 1), providers=("Google Cloud",),
        tags=(("team", "ml"),)))
    assert expected > 0
    assert [t["name"] for t in got["spend"]["figure"]["data"]] == ["Google Cloud"]
    assert figure_sum(got["spend"]["figure"]) == pytest.approx(expected, abs=0.5)


@pytest.mark.hidden
@pytest.mark.points(2)
def test_anomaly_drilldown_names_the_resource(dashboard_lazy: Lazy[dict[str, Any]]) -> None:
    dashboard = dashboard_lazy.get()
    rows = update(dashboard["url"], "2026-10-01", "2026-10-31")["anomalies"]["data"]
    body = {"output": "drilldown.figure", "outputs": {"id": "drilldown", "property": "figure"},
            "inputs": [{"id": "anomalies", "property": "selected_rows", "value": [0]},
                       {"id": "anomalies", "property": "data", "value": rows}],
            "changedPropIds": ["anomalies.selected_rows"], "state": []}
    response = httpx.post(f"{dashboard['url']}/_dash-update-component", json=body, timeout=60)
    figure = response.json()["response"]["drilldown"]["figure"]
    day = figure["data"][0]
    assert day["x"][0] == "arn:aws:ec2:::instance/i-000004"
    assert day["y"][0] - figure["data"][1]["y"][0] > 800  # the planted +$900


@pytest.mark.slow
@pytest.mark.points(3)
def test_real_browser_shows_the_expected_total(dashboard_lazy: Lazy[dict[str, Any]],
                                               request: pytest.FixtureRequest) -> None:
    dashboard = dashboard_lazy.get()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver_path = shutil.which("chromedriver")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not driver_path or not browser:
        message = "Debian chromium + chromium-driver are needed (make setup installs them)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1800"):
        options.add_argument(flag)
    # Offline: the Debian driver on PATH, never Selenium Manager's download.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.get(dashboard["url"])
        expected = store_total(dashboard["store"], Filters(date(2026, 10, 2), date(2026, 11, 1)))
        WebDriverWait(driver, 60).until(
            expected_conditions.text_to_be_present_in_element((By.ID, "total"), "$"))
        assert driver.find_element(By.ID, "total").text == f"${expected:,.2f}"
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "const g = document.querySelector('#spend .js-plotly-plot');"
            "return g && g.data && g.data.length > 0;"))
        shown = driver.execute_script(
            "const g = document.querySelector('#spend .js-plotly-plot');"
            "return g.data.reduce((s, t) => s + t.y.reduce((a, b) => a + b, 0), 0);")
        assert shown == pytest.approx(expected, abs=0.5)
        time.sleep(0.5)
        shots = Path(request.config.rootpath) / "reports" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shots / "dashboard.png"))
    finally:
        driver.quit()
