"""CI gates compatible with dive's `.dive-ci` file, plus `maxSize` and `maxLayers`.

    rules:
      lowestEfficiency: 0.95          # fail below (dive default 0.9)
      highestWastedBytes: 20MB        # fail above; "disabled" turns a rule off
      highestUserWastedPercent: 0.1   # a fraction, like dive (default 0.1)
      maxSize: 50MB                   # imgopt: total layer bytes
      maxLayers: 10                   # imgopt: layer count

Byte values take dive's forms (`20MB` = 20*1000^2, `20MiB` = 20*1024^2, plain numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from imgopt.errors import ImgoptError
from imgopt.layers import Analysis

DEFAULTS: dict[str, Any] = {"lowestEfficiency": 0.9, "highestWastedBytes": "disabled",
                            "highestUserWastedPercent": 0.1, "maxSize": "disabled",
                            "maxLayers": "disabled"}
_UNITS = {"": 1, "b": 1, "kb": 1000, "k": 1000, "mb": 1000**2, "m": 1000**2,
          "gb": 1000**3, "g": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


class CIConfigError(ImgoptError):
    exit_code = 3


@dataclass(frozen=True)
class RuleResult:
    rule: str
    status: str  # PASS, FAIL, SKIP
    message: str


def parse_bytes(value: Any) -> int:
    """`20MB`, `1.5 MiB`, `1000` -> bytes (dive uses go-humanize's ParseBytes)."""
    if isinstance(value, bool):
        raise CIConfigError(f"not a byte size: {value!r}")
    if isinstance(value, int | float):
        return int(value)
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(value))
    if not match or match.group(2).lower() not in _UNITS:
        raise CIConfigError(f"not a byte size: {value!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def load_rules(data: dict[str, Any] | None) -> dict[str, Any]:
    rules = dict(DEFAULTS)
    if data:
        given = data.get("rules", data)
        if not isinstance(given, dict):
            raise CIConfigError("CI config: `rules` must be a mapping")
        unknown = sorted(set(given) - set(DEFAULTS))
        if unknown:
            raise CIConfigError(f"CI config: unknown rule(s) {', '.join(unknown)}")
        rules.update(given)
    return rules


def _disabled(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "disabled"


def evaluate(analysis: Analysis, rules: dict[str, Any]) -> list[RuleResult]:
    # BEGIN SOLUTION: dive's comparisons (strictly below/above), SKIP when disabled
    dive = analysis.dive
    results = []
    checks: list[tuple[str, float, str, bool]] = []
    for rule, value in rules.items():
        if _disabled(value):
            results.append(RuleResult(rule, "SKIP", "rule disabled"))
            continue
        try:
            if rule == "lowestEfficiency":
                threshold = float(value)
                checks.append((rule, threshold, f"efficiency={dive.efficiency:.4f}",
                               dive.efficiency < threshold))
            elif rule == "highestWastedBytes":
                limit = parse_bytes(value)
                checks.append((rule, limit, f"wasted-bytes={dive.wasted_bytes}",
                               dive.wasted_bytes > limit))
            elif rule == "highestUserWastedPercent":
                threshold = float(value)
                checks.append((rule, threshold,
                               f"user-wasted={dive.user_wasted_percent:.4f}",
                               dive.user_wasted_percent > threshold))
            elif rule == "maxSize":
                limit = parse_bytes(value)
                checks.append((rule, limit, f"size={dive.size_bytes}", dive.size_bytes > limit))
            elif rule == "maxLayers":
                limit = int(value)
                checks.append((rule, limit, f"layers={len(analysis.layers)}",
                               len(analysis.layers) > limit))
        except (TypeError, ValueError) as exc:
            raise CIConfigError(f"CI config: {rule}: invalid value {value!r}") from exc
    for rule, threshold, measured, failed in checks:
        results.append(RuleResult(rule, "FAIL" if failed else "PASS",
                                  f"{measured} (threshold {threshold})"))
    return sorted(results, key=lambda r: r.rule)
    # END SOLUTION
