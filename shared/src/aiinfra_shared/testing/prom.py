"""Test helpers for the Prometheus toolchain: promtool, amtool and Grafana dashboards.

Many exercises ship alert rules with promtool unit tests, an Alertmanager routing tree and a
Grafana dashboard, and their tests check the same three things the same way: the files pass
promtool/amtool, the rule tests pass (and fail once a threshold is loosened, so they really
pin the rules), and every dashboard panel's PromQL returns data from a real Prometheus. This
module is that common part, so each test keeps only what is specific to its exercise.

- `promtool_path()` / `amtool_path()`: the shared missing-program policy (`require_or_skip`):
  a skip with an install hint on a laptop, a failure under CI=true.
- `promtool(...)` / `amtool(...)`: run one command, never raise on its exit status.
- `check_rules`, `check_config`, `check_alertmanager_config`, `rule_tests_pass`: assert
  success, show the command's output on failure, return the result for further checks
  (e.g. `"SUCCESS: 3 rules found" in result.stdout`).
- `rule_tests_fail(..., mentioning=[alertname])`: assert the rule tests fail and name the
  alert, for the "a loosened threshold breaks the tests" checks.
- `amtool_route(config, *labels)`: the receiver(s) Alertmanager's routing tree picks.
- `dashboard_queries(dashboard)` and `assert_panels_return_data(url, dashboard, ...)`.

Helper names avoid the `test_` prefix: imported into a test module, pytest would collect them.
Failures raise AssertionError (not `assert`), so they hold under `python -O` too.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.testing.plugin import require_or_skip

__all__ = [
    "DEFAULT_VARIABLES",
    "PanelQuery",
    "amtool",
    "amtool_path",
    "amtool_route",
    "assert_panels_return_data",
    "check_alertmanager_config",
    "check_config",
    "check_rules",
    "dashboard_queries",
    "output",
    "promtool",
    "promtool_path",
    "rule_tests_fail",
    "rule_tests_pass",
    "substitute_variables",
]

Arg = str | os.PathLike[str]

PROMTOOL_HINT = "apt-get install prometheus (make setup)"
AMTOOL_HINT = "apt-get install prometheus-alertmanager (make setup)"


# --------------------------------------------------------------------------- the programs


def promtool_path() -> str:
    """promtool's path; skips on a laptop without it, fails under CI (never green by skip)."""
    return require_or_skip(lambda: require_binary("promtool", PROMTOOL_HINT))


def amtool_path() -> str:
    """amtool's path, with the same policy as `promtool_path`."""
    return require_or_skip(lambda: require_binary("amtool", AMTOOL_HINT))


def _run(binary: str, args: Sequence[Arg], cwd: Arg | None, timeout: float
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *(os.fspath(a) for a in args)], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=timeout)


def promtool(*args: Arg, cwd: Arg | None = None, timeout: float = 120
             ) -> subprocess.CompletedProcess[str]:
    """Run `promtool ARGS` (text output captured); the caller judges the exit status.

    `cwd` matters: promtool resolves a rule test's `rule_files` and a config's `rule_files`
    relative to the file that names them, but a bare file argument relative to `cwd`.
    """
    return _run(promtool_path(), args, cwd, timeout)


def amtool(*args: Arg, cwd: Arg | None = None, timeout: float = 120
           ) -> subprocess.CompletedProcess[str]:
    """Run `amtool ARGS` (text output captured); the caller judges the exit status."""
    return _run(amtool_path(), args, cwd, timeout)


def output(result: subprocess.CompletedProcess[str]) -> str:
    """stdout and stderr together: promtool prints results on one, failures on the other."""
    return (result.stdout or "") + (result.stderr or "")


def _describe(result: subprocess.CompletedProcess[str], cwd: Arg | None) -> str:
    command = " ".join(str(a) for a in result.args)
    where = f" (in {os.fspath(cwd)})" if cwd is not None else ""
    return f"`{command}`{where} exited {result.returncode}:\n{output(result)}"


def _succeeds(result: subprocess.CompletedProcess[str], cwd: Arg | None
              ) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        raise AssertionError(_describe(result, cwd))
    return result


# --------------------------------------------------------------------------- checks


def check_rules(*paths: Arg, cwd: Arg | None = None, timeout: float = 120
                ) -> subprocess.CompletedProcess[str]:
    """Assert `promtool check rules PATHS` succeeds (syntax, PromQL, templates)."""
    if not paths:
        raise ValueError("check_rules needs at least one rule file")
    return _succeeds(promtool("check", "rules", *paths, cwd=cwd, timeout=timeout), cwd)


def check_config(path: Arg, cwd: Arg | None = None, timeout: float = 120
                 ) -> subprocess.CompletedProcess[str]:
    """Assert `promtool check config PATH` succeeds; it checks the rule files it names too
    (one `SUCCESS: N rules found` line each in stdout)."""
    return _succeeds(promtool("check", "config", path, cwd=cwd, timeout=timeout), cwd)


def check_alertmanager_config(path: Arg, cwd: Arg | None = None, timeout: float = 120
                              ) -> subprocess.CompletedProcess[str]:
    """Assert `amtool check-config PATH` succeeds (stdout summarises receivers, templates)."""
    return _succeeds(amtool("check-config", path, cwd=cwd, timeout=timeout), cwd)


def rule_tests_pass(*test_files: Arg, cwd: Arg | None = None, timeout: float = 120
                    ) -> subprocess.CompletedProcess[str]:
    """Assert `promtool test rules TEST_FILES` passes; the failure shows promtool's report.

    A test file covering recording and alerting groups needs `group_eval_order`: promtool
    evaluates the groups in a random order otherwise, and the tests flake.
    """
    if not test_files:
        raise ValueError("rule_tests_pass needs at least one test file")
    result = _succeeds(promtool("test", "rules", *test_files, cwd=cwd, timeout=timeout), cwd)
    if "SUCCESS" not in result.stdout:
        raise AssertionError(f"no SUCCESS in promtool's report: {_describe(result, cwd)}")
    return result


def rule_tests_fail(*test_files: Arg, cwd: Arg | None = None,
                    mentioning: Iterable[str] = (), timeout: float = 120
                    ) -> subprocess.CompletedProcess[str]:
    """Assert `promtool test rules TEST_FILES` fails, naming each of `mentioning` (alert
    names, test names) in its output: the tests pin the rules, a changed threshold breaks them.
    """
    if not test_files:
        raise ValueError("rule_tests_fail needs at least one test file")
    result = promtool("test", "rules", *test_files, cwd=cwd, timeout=timeout)
    if result.returncode == 0:
        raise AssertionError(f"the rule tests were expected to fail: {_describe(result, cwd)}")
    missing = [name for name in mentioning if name not in output(result)]
    if missing:
        raise AssertionError(f"promtool's failure does not mention {missing}: "
                             f"{_describe(result, cwd)}")
    return result


def amtool_route(config: Arg, *labels: str, timeout: float = 120) -> str:
    """The receiver(s) Alertmanager's routing tree picks for `labels` ("name=value"), as
    `amtool config routes test` prints them (comma-separated when several routes match)."""
    result = _succeeds(amtool("config", "routes", "test", "--config.file", config, *labels,
                              timeout=timeout), None)
    return result.stdout.strip()


# --------------------------------------------------------------------------- Grafana dashboards


@dataclass(frozen=True)
class PanelQuery:
    """One PromQL query of a dashboard: where it is (for messages) and its text."""

    dashboard: str
    title: str
    ref_id: str
    expr: str

    def where(self) -> str:
        ref = f" [{self.ref_id}]" if self.ref_id else ""
        return f"{self.dashboard} / {self.title}{ref}"


# Values for Grafana's built-in variables. Grafana makes $__rate_interval at least four scrape
# intervals, so rate() always sees two samples; 5m does that for a live Prometheus scraping
# every few seconds and for history backfilled at one sample a minute alike. Override them
# through `variables=` (e.g. {"__rate_interval": "5s"} for a short live run).
DEFAULT_VARIABLES: Mapping[str, str] = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
}

# $name, ${name}, ${name:format} and the legacy [[name]]
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")


def substitute_variables(expr: str, variables: Mapping[str, str] | None = None) -> str:
    """Replace Grafana template variables in `expr` with `variables` (on top of
    DEFAULT_VARIABLES). An unknown variable raises ValueError: Prometheus would reject the
    text anyway, with a less helpful parse error."""
    values = {**DEFAULT_VARIABLES, **(variables or {})}
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name not in values:
            unknown.append(name)
            return match.group(0)
        return values[name]

    text = _VARIABLE.sub(replace, expr)
    if unknown:
        raise ValueError(f"no value for template variable(s) {sorted(set(unknown))} in {expr!r}"
                         " (pass variables={...})")
    return text


def _load(dashboard: Mapping[str, Any] | Path) -> Mapping[str, Any]:
    data: Mapping[str, Any] = (json.loads(dashboard.read_text())
                               if isinstance(dashboard, Path) else dashboard)
    inner = data.get("dashboard")  # the API / provisioning wrapper {"dashboard": {...}}
    return inner if isinstance(inner, Mapping) else data


def _is_prometheus(*datasources: Any) -> bool:
    """False only for a datasource that says it is something else (Loki also uses `expr`)."""
    for source in datasources:
        if isinstance(source, Mapping) and source.get("type"):
            return str(source["type"]) == "prometheus"
    return True


def _panels(panels: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])  # a collapsed row holds its panels


def dashboard_queries(dashboard: Mapping[str, Any] | Path, *, annotations: bool = True
                      ) -> list[PanelQuery]:
    """Every PromQL query of a Grafana dashboard (parsed JSON or a file), as written.

    Walks `panels` with the panels nested in rows, the legacy `rows[].panels`, and (unless
    `annotations=False`) the annotation queries, which are PromQL that must answer too.
    Targets of a non-Prometheus datasource are skipped. Variables are left in place:
    `substitute_variables` fills them in.
    """
    data = _load(dashboard)
    name = str(data.get("title") or data.get("uid") or "dashboard")
    panels = list(_panels(data.get("panels") or []))
    for row in data.get("rows") or []:
        panels += list(_panels(row.get("panels") or []))
    queries = []
    for panel in panels:
        for target in panel.get("targets") or []:
            if "expr" in target and _is_prometheus(target.get("datasource"),
                                                   panel.get("datasource")):
                queries.append(PanelQuery(name, str(panel.get("title", "")),
                                          str(target.get("refId", "")), str(target["expr"])))
    if annotations:
        for annotation in (data.get("annotations") or {}).get("list") or []:
            if annotation.get("expr") and _is_prometheus(annotation.get("datasource")):
                queries.append(PanelQuery(name, f"annotation {annotation.get('name', '')}",
                                          "", str(annotation["expr"])))
    return queries


def _timestamp(at: float | datetime | None) -> float:
    if at is None:
        return time.time()
    return at.timestamp() if isinstance(at, datetime) else float(at)


def _has_data(result: list[dict[str, Any]], nan_is_data: bool) -> bool:
    """Any series at all, or (nan_is_data=False) any series with a sample that is a number."""
    if nan_is_data:
        return bool(result)
    for series in result:
        samples = series.get("values") or ([series["value"]] if "value" in series else [])
        if any(not math.isnan(float(value)) for _, value in samples):
            return True
    return False


def _ask(client: httpx.Client, expr: str, at: float, window: float | None, step: float
         ) -> tuple[list[dict[str, Any]], str | None]:
    """(result, None), or ([], Prometheus's error) for a query it rejects."""
    if window is None:
        response = client.get("/api/v1/query", params={"query": expr, "time": f"{at:.3f}"})
    else:
        response = client.get("/api/v1/query_range", params={
            "query": expr, "start": f"{at - window:.3f}", "end": f"{at:.3f}", "step": f"{step:g}"})
    if response.status_code in (400, 422):  # bad_data / execution error: the query is wrong
        return [], f"{response.json().get('errorType')}: {response.json().get('error')}"
    response.raise_for_status()
    data = response.json()["data"]
    if data.get("resultType") in ("scalar", "string"):  # one [time, value] pair, no series
        return [{"value": data["result"]}], None
    return list(data["result"]), None


def assert_panels_return_data(
    prometheus_url: str,
    dashboard: Mapping[str, Any] | Path,
    *,
    at: float | datetime | None = None,
    variables: Mapping[str, str] | None = None,
    window: float | None = None,
    step: float = 60,
    wait: float = 0,
    interval: float = 0.5,
    annotations: bool = True,
    nan_is_data: bool = True,
) -> list[PanelQuery]:
    """Assert every PromQL query of `dashboard` returns data from the Prometheus at
    `prometheus_url`; the AssertionError names each empty or rejected query
    (dashboard / panel [refId]: expr). Returns the queries run (variables substituted).

    A dashboard that only parses is not enough: a typo in a metric or label name gives an
    empty panel, which no schema check sees. Queries are instant at `at` (unix seconds or a
    datetime; default now), or with `window` seconds a range query over [at - window, at]
    every `step` seconds, for backfilled history. A NaN sample is data by default: a
    histogram_quantile() over a quiet minute is NaN, and the query itself is right; with
    `nan_is_data=False` a series must hold a number (a 0/0 ratio draws nothing in Grafana,
    and clients that drop NaN see no series). `wait` seconds polls each empty query again, every
    `interval` seconds, for a live Prometheus whose first scrapes are still coming in
    (rate() needs two). A dashboard with no PromQL query fails too.
    """
    found = dashboard_queries(dashboard, annotations=annotations)
    if not found:
        raise AssertionError(f"no PromQL query in dashboard {_load(dashboard).get('title')!r}")
    queries = [PanelQuery(q.dashboard, q.title, q.ref_id, substitute_variables(q.expr, variables))
               for q in found]
    moment = _timestamp(at) if at is not None else None
    problems = []
    with httpx.Client(base_url=prometheus_url, timeout=30) as client:
        for query in queries:
            deadline = time.monotonic() + wait
            while True:
                result, error = _ask(client, query.expr, _timestamp(moment), window, step)
                if error or _has_data(result, nan_is_data) or time.monotonic() >= deadline:
                    break
                time.sleep(interval)
            if error:
                problems.append(f"  {query.where()}: {query.expr}\n    rejected: {error}")
            elif not _has_data(result, nan_is_data):
                problems.append(f"  {query.where()}: {query.expr}")
    if problems:
        when = "now" if moment is None else f"at {moment:.0f}"
        span = f" over the {window:g}s before" if window is not None else ""
        raise AssertionError(
            f"{len(problems)} of {len(queries)} dashboard queries returned no data from "
            f"{prometheus_url}{span} {when}:\n" + "\n".join(problems))
    return queries
