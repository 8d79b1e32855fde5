"""SLOs as code, Sloth-style: a spec in, Prometheus recording rules, multiwindow
multi-burn-rate alerts, error-budget series and promtool unit tests out.

The alerting scheme is the one of the Google SRE workbook (chapter 5, "Alerting on SLOs"),
as Sloth and Pyrra implement it for a 30-day period:

| severity | burn rate | long window | short window | budget spent when it fires |
|---|---|---|---|---|
| page | 14.4x | 1h | 5m | 2 % in 1 h |
| page | 6x | 6h | 30m | 5 % in 6 h |
| ticket | 3x | 1d | 2h | 10 % in 1 d |
| ticket | 1x | 3d | 6h | 10 % in 3 d |

For another period every window is scaled by period / 30d (what sloth#96 asks for): the
same burn rates then spend the same share of the budget. A 12h period turns 1h/5m into
1m/5s, which is how the tests get alerts in seconds with the production logic.

Generated rule files are split in two: `<slo>.sli.rules.yml` (the error ratio of every
window, from the spec's queries) and `<slo>.alerts.rules.yml` (objective, budget, burn rates,
budget remaining and the alerts, all computed from the SLI series). The promtool tests load
only the second file and feed synthetic SLI series, so they test the alert logic of each SLO
with exact inputs whatever PromQL the SLI uses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

WINDOW_PLACEHOLDER = "{{.window}}"
BASE_PERIOD_S = 30 * 86400
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


class SloSpecError(ValueError):
    """The SLO spec is invalid; the message names the SLO and the field."""


@dataclass(frozen=True)
class BurnWindow:
    """One multiwindow condition: error ratio over `long_s` AND over `short_s` above
    `factor` x the error budget."""

    severity: str
    factor: float
    long_s: int
    short_s: int


# The SRE workbook's windows for a 30-day period (seconds).
BASE_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("page", 14.4, 3600, 300),
    BurnWindow("page", 6.0, 6 * 3600, 1800),
    BurnWindow("ticket", 3.0, 86400, 2 * 3600),
    BurnWindow("ticket", 1.0, 3 * 86400, 6 * 3600),
)


@dataclass(frozen=True)
class LatencySli:
    """Good events are requests faster than `threshold_s` (a histogram bucket boundary)."""

    metric: str  # histogram base name, e.g. obsstack_http_request_duration_seconds
    selector: str  # label matchers without braces, e.g. service="gateway"
    threshold_s: float


@dataclass(frozen=True)
class EventsSli:
    """Error and total queries with `{{.window}}` where the range goes."""

    error_query: str
    total_query: str


@dataclass(frozen=True)
class Slo:
    name: str
    objective: float  # percent, e.g. 99.9
    sli: EventsSli | LatencySli
    description: str = ""
    alert_name: str = ""
    page_labels: dict[str, str] = field(default_factory=dict)
    ticket_labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def error_budget(self) -> float:
        """Allowed error ratio (0.001 for 99.9 %; decimal arithmetic, so the rules read
        0.001 rather than 0.0009999999999998899)."""
        return float((Decimal(100) - Decimal(repr(self.objective))) / Decimal(100))


@dataclass(frozen=True)
class SloSpec:
    service: str
    period_s: int
    slos: tuple[Slo, ...]
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def windows(self) -> tuple[BurnWindow, ...]:
        return scaled_windows(self.period_s)


# --------------------------------------------------------------------------- durations


def parse_duration(text: str) -> float:
    """Prometheus duration (`5m`, `30d`, `1h30m`) -> seconds."""
    text = str(text).strip()
    total = 0.0
    rest = text
    if not rest:
        raise SloSpecError("empty duration")
    for match in re.finditer(r"(\d+)(ms|s|m|h|d|w)", text):
        total += int(match.group(1)) * _UNITS[match.group(2)]
        rest = rest.replace(match.group(0), "", 1)
    if rest or total <= 0:
        raise SloSpecError(f"invalid duration {text!r} (use e.g. 30d, 12h, 5m)")
    return total


def format_duration(seconds: float) -> str:
    """Seconds -> the shortest Prometheus duration (`3600` -> `1h`, `90` -> `1m30s`)."""
    remaining = max(1, round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def scaled_windows(period_s: float) -> tuple[BurnWindow, ...]:
    """The workbook windows scaled to `period_s` (whole seconds, at least 1 s each).

    A 7d period gives page windows of 14m/1m10s, a 12h period 1m/5s (sloth#96)."""
    # BEGIN SOLUTION
    factor = period_s / BASE_PERIOD_S
    return tuple(
        BurnWindow(w.severity, w.factor, max(1, round(w.long_s * factor)),
                   max(1, round(w.short_s * factor)))
        for w in BASE_WINDOWS
    )
    # END SOLUTION


# --------------------------------------------------------------------------- parsing


def _labels(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SloSpecError(f"{where}: must be a mapping of label names to values")
    return {str(k): str(v) for k, v in raw.items()}


def _parse_slo(raw: Any, index: int) -> Slo:
    if not isinstance(raw, dict):
        raise SloSpecError(f"slos[{index}]: must be a mapping")
    name = str(raw.get("name") or "")
    where = f"slo {name!r}" if name else f"slos[{index}]"
    if not _NAME.match(name):
        raise SloSpecError(f"{where}: name must be lower-case letters, digits and dashes")
    try:
        objective = float(raw["objective"])
    except (KeyError, TypeError, ValueError):
        raise SloSpecError(f"{where}: objective (a percentage such as 99.9) is required"
                           ) from None
    if not math.isfinite(objective) or objective >= 100:
        raise SloSpecError(f"{where}: objective {objective:g}% leaves no error budget "
                           "(use a value below 100, e.g. 99.9)")
    if objective <= 0:
        raise SloSpecError(f"{where}: objective must be above 0%")
    sli_raw = raw.get("sli")
    if not isinstance(sli_raw, dict):
        raise SloSpecError(f"{where}: sli is required (events: error_query/total_query, "
                           "or latency: metric/threshold)")
    sli: EventsSli | LatencySli
    if "events" in sli_raw:
        events = sli_raw["events"] or {}
        missing = [k for k in ("error_query", "total_query") if not events.get(k)]
        if missing:
            raise SloSpecError(f"{where}: sli.events needs {' and '.join(missing)}")
        for key in ("error_query", "total_query"):
            if WINDOW_PLACEHOLDER not in str(events[key]):
                raise SloSpecError(f"{where}: sli.events.{key} must contain "
                                   f"{WINDOW_PLACEHOLDER} where the range goes")
        sli = EventsSli(str(events["error_query"]).strip(), str(events["total_query"]).strip())
    elif "latency" in sli_raw:
        latency = sli_raw["latency"] or {}
        if not latency.get("metric"):
            raise SloSpecError(f"{where}: sli.latency.metric (a histogram name) is required")
        try:
            threshold = float(latency["threshold"])
        except (KeyError, TypeError, ValueError):
            raise SloSpecError(f"{where}: sli.latency.threshold (seconds, a bucket bound) "
                               "is required") from None
        if threshold <= 0:
            raise SloSpecError(f"{where}: sli.latency.threshold must be positive")
        sli = LatencySli(str(latency["metric"]), str(latency.get("selector") or ""), threshold)
    else:
        raise SloSpecError(f"{where}: sli needs `events` or `latency`")
    alerting = raw.get("alerting") or {}
    return Slo(
        name=name, objective=objective, sli=sli, description=str(raw.get("description", "")),
        alert_name=str(alerting.get("name") or _camel(name)),
        page_labels=_labels((alerting.get("page_alert") or {}).get("labels"), where),
        ticket_labels=_labels((alerting.get("ticket_alert") or {}).get("labels"), where),
        annotations=_labels(alerting.get("annotations"), where),
    )


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "SLO"


def parse_spec(data: Any) -> SloSpec:
    """A parsed YAML document -> SloSpec, or SloSpecError naming the bad field."""
    if not isinstance(data, dict):
        raise SloSpecError("the spec must be a mapping with service and slos")
    service = str(data.get("service") or "")
    if not _NAME.match(service):
        raise SloSpecError("service is required (lower-case letters, digits, dashes)")
    period_s = round(parse_duration(str(data.get("time_window", "30d"))))
    slos_raw = data.get("slos")
    if not isinstance(slos_raw, list) or not slos_raw:
        raise SloSpecError("slos must be a non-empty list")
    slos = tuple(_parse_slo(raw, i) for i, raw in enumerate(slos_raw))
    names = [s.name for s in slos]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise SloSpecError(f"duplicate SLO names: {duplicates}")
    return SloSpec(service, period_s, slos, _labels(data.get("labels"), "labels"))


def load_spec(path: Path) -> SloSpec:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise SloSpecError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SloSpecError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_spec(data)


# --------------------------------------------------------------------------- rules


def sli_windows(spec: SloSpec) -> list[int]:
    """Every window an SLI ratio is recorded for: the alert windows (ascending)."""
    return sorted({s for w in spec.windows for s in (w.long_s, w.short_s)})


def _slo_labels(spec: SloSpec, slo: Slo) -> dict[str, str]:
    return {**spec.labels, "slo_service": spec.service, "slo_name": slo.name}


def _matchers(labels: dict[str, str]) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def error_ratio_expr(slo: Slo, window: str) -> str:
    """PromQL of the error ratio over `window` (e.g. `5m`)."""
    # BEGIN SOLUTION
    if isinstance(slo.sli, EventsSli):
        error = slo.sli.error_query.replace(WINDOW_PLACEHOLDER, window)
        total = slo.sli.total_query.replace(WINDOW_PLACEHOLDER, window)
        return f"({error})\n/\n({total})"
    sel = slo.sli.selector
    bucket_sel = ", ".join(x for x in (sel, f'le="{slo.sli.threshold_s:g}"') if x)
    return (f"1 - (\n  sum(rate({slo.sli.metric}_bucket{{{bucket_sel}}}[{window}]))\n  /\n"
            f"  sum(rate({slo.sli.metric}_count{{{sel}}}[{window}]))\n)")
    # END SOLUTION


def sli_rule_groups(spec: SloSpec, slo: Slo) -> list[dict[str, Any]]:
    """Recording rules `slo:sli_error:ratio_rate<window>` for every alert window."""
    labels = _slo_labels(spec, slo)
    rules = []
    for seconds in sli_windows(spec):
        window = format_duration(seconds)
        rules.append({"record": f"slo:sli_error:ratio_rate{window}",
                      "expr": error_ratio_expr(slo, window),
                      "labels": {**labels, "slo_window": window}})
    return [{"name": f"slo-sli-{spec.service}-{slo.name}", "rules": rules}]


def alert_rule_groups(spec: SloSpec, slo: Slo) -> list[dict[str, Any]]:
    """Meta series (objective, budget, burn rates, budget remaining) and the page and
    ticket alerts, all from the SLI recordings."""
    # BEGIN SOLUTION
    labels = _slo_labels(spec, slo)
    sel = _matchers(labels)
    period = format_duration(spec.period_s)
    shortest = format_duration(sli_windows(spec)[0])
    budget = slo.error_budget
    meta = [
        {"record": "slo:objective:ratio", "expr": f"vector({slo.objective / 100!r})",
         "labels": labels},
        {"record": "slo:error_budget:ratio", "expr": f"vector({budget!r})", "labels": labels},
        {"record": "slo:time_period:days", "expr": f"vector({spec.period_s / 86400!r})",
         "labels": labels},
        {"record": f"slo:sli_error:ratio_rate{period}",
         "expr": (f"sum_over_time(slo:sli_error:ratio_rate{shortest}{{{sel}}}[{period}])\n"
                  f"/ ignoring (slo_window)\n"
                  f"count_over_time(slo:sli_error:ratio_rate{shortest}{{{sel}}}[{period}])"),
         "labels": {**labels, "slo_window": period}},
        {"record": "slo:current_burn_rate:ratio",
         "expr": (f"slo:sli_error:ratio_rate{shortest}{{{sel}}}\n/ ignoring (slo_window)\n"
                  f"slo:error_budget:ratio{{{sel}}}"),
         "labels": labels},
        {"record": "slo:period_burn_rate:ratio",
         "expr": (f"slo:sli_error:ratio_rate{period}{{{sel}}}\n/ ignoring (slo_window)\n"
                  f"slo:error_budget:ratio{{{sel}}}"),
         "labels": labels},
        {"record": "slo:period_error_budget_remaining:ratio",
         "expr": f"1 - slo:period_burn_rate:ratio{{{sel}}}", "labels": labels},
    ]
    alerts = []
    for severity, extra in (("page", slo.page_labels), ("ticket", slo.ticket_labels)):
        conditions = []
        for w in (w for w in spec.windows if w.severity == severity):
            long_w, short_w = format_duration(w.long_s), format_duration(w.short_s)
            threshold = f"({w.factor!r} * {budget!r})"
            conditions.append(
                f"(\n    max(slo:sli_error:ratio_rate{long_w}{{{sel}}} > {threshold}) "
                f"without (slo_window)\n    and\n    max(slo:sli_error:ratio_rate{short_w}"
                f"{{{sel}}} > {threshold}) without (slo_window)\n)")
        alerts.append({
            "alert": slo.alert_name,
            "expr": "\nor\n".join(conditions),
            "labels": {"severity": severity, "slo": slo.name, "slo_service": spec.service,
                       **extra},
            "annotations": alert_annotations(spec, slo),
        })
    return [{"name": f"slo-meta-{spec.service}-{slo.name}", "rules": meta},
            {"name": f"slo-alerts-{spec.service}-{slo.name}", "rules": alerts}]
    # END SOLUTION


def alert_annotations(spec: SloSpec, slo: Slo) -> dict[str, str]:
    """Static annotations (no `$value` templates, so promtool tests can state them)."""
    return {
        "summary": f"{spec.service} {slo.name}: error budget burning too fast",
        "description": (f"{slo.description or slo.name}: objective {slo.objective:g}% over "
                        f"{format_duration(spec.period_s)}; see slo:current_burn_rate:ratio"),
        **slo.annotations,
    }


# --------------------------------------------------------------------------- promtool tests


def _series(value: float, minutes: int) -> str:
    return f"{value!r}+0x{minutes}"


def promtool_tests(spec: SloSpec, slo: Slo, rule_file: str) -> dict[str, Any]:
    """A `promtool test rules` file for one SLO's meta and alert groups.

    Cases (inputs are the SLI recordings, held constant): every window burning at
    1.1x the fastest page factor -> page and ticket fire; only the short windows burning
    (a spike that is already over) -> nothing fires; a slow burn at 1.5x on every window ->
    the ticket only; and the budget remaining after a period at half the budget.
    """
    # BEGIN SOLUTION
    labels = _slo_labels(spec, slo)
    budget = slo.error_budget
    windows = sli_windows(spec)
    long_windows = {w.long_s for w in spec.windows}
    short_windows = {w.short_s for w in spec.windows}
    slowest = max(w.long_s for w in spec.windows)
    # The inputs are the SLI recordings themselves and the alerts read them as instant
    # vectors, so a coarse interval suffices (12 steps over the slowest window): evaluation
    # points fall on samples. 1-minute samples over 3 days made promtool take a minute.
    interval_s = max(1, math.ceil(slowest / 12))
    steps = 13
    eval_time = format_duration(steps * interval_s)

    def inputs(ratio_of: dict[int, float]) -> list[dict[str, str]]:
        return [{"series": "slo:sli_error:ratio_rate" + format_duration(s) + "{"
                 + _matchers({**labels, "slo_window": format_duration(s)}) + "}",
                 "values": _series(ratio_of[s], steps)} for s in windows]

    def expected(severities: list[str]) -> list[dict[str, Any]]:
        extra = {"page": slo.page_labels, "ticket": slo.ticket_labels}
        return [{"exp_labels": {"severity": sev, "slo": slo.name, **labels, **extra[sev]},
                 "exp_annotations": alert_annotations(spec, slo)}
                for sev in severities]

    fast = BASE_WINDOWS[0].factor * 1.1 * budget
    slow = 1.5 * budget
    low = 0.5 * budget
    only_short = {s: (fast if s in short_windows and s not in long_windows else low)
                  for s in windows}
    cases = [
        ("fast burn: page and ticket", {s: fast for s in windows}, ["page", "ticket"]),
        ("spike already over: short windows only, no alert", only_short, []),
        ("slow burn: ticket only", {s: slow for s in windows}, ["ticket"]),
    ]
    tests: list[dict[str, Any]] = []
    for name, ratios, severities in cases:
        tests.append({
            "name": f"{slo.name}: {name}",
            "interval": format_duration(interval_s),
            "input_series": inputs(ratios),
            "alert_rule_test": [{"eval_time": eval_time, "alertname": slo.alert_name,
                                 "exp_alerts": expected(severities)}],
        })
    half = {s: low for s in windows}
    tests.append({
        "name": f"{slo.name}: half the budget spent -> 50% remaining",
        "interval": format_duration(interval_s),
        "input_series": inputs(half),
        "promql_expr_test": [{
            "eval_time": eval_time,
            "expr": ("round(100 * slo:period_error_budget_remaining:ratio{"
                     + _matchers(labels) + "})"),
            "exp_samples": [{"labels": "{" + _matchers(labels) + "}", "value": 50}],
        }],
    })
    return {
        "rule_files": [rule_file],
        "evaluation_interval": format_duration(interval_s),
        # promtool orders groups randomly otherwise: meta first, then the alerts.
        "group_eval_order": [g["name"] for g in alert_rule_groups(spec, slo)],
        "tests": tests,
    }
    # END SOLUTION


# --------------------------------------------------------------------------- output


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=100)


def render(spec: SloSpec) -> dict[str, str]:
    """File name -> YAML text of every generated file (rules and their tests)."""
    files: dict[str, str] = {}
    header = ("# Generated by `obsstack slo generate` from the SLO spec: do not edit.\n"
              f"# service {spec.service}, period {format_duration(spec.period_s)}\n")
    for slo in spec.slos:
        base = f"{spec.service}-{slo.name}"
        files[f"{base}.sli.rules.yml"] = header + _dump({"groups": sli_rule_groups(spec, slo)})
        alerts_file = f"{base}.alerts.rules.yml"
        files[alerts_file] = header + _dump({"groups": alert_rule_groups(spec, slo)})
        files[f"tests/{base}.test.yml"] = header + _dump(
            promtool_tests(spec, slo, f"../{alerts_file}"))
    return files


def all_groups(spec: SloSpec) -> list[dict[str, Any]]:
    """Every rule group of the spec (for a PrometheusRule or one rules file)."""
    groups: list[dict[str, Any]] = []
    for slo in spec.slos:
        groups += sli_rule_groups(spec, slo) + alert_rule_groups(spec, slo)
    return groups
