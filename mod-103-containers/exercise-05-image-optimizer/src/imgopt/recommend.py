"""Recommendations ranked by what they save: bytes from the measured layers, seconds from the
build history. Each one points at the finding (a rule and a line, or a layer) it comes from.

Layers are tied to Dockerfile lines by order: the final stage's RUN/COPY/ADD instructions make
its last layers (buildah --layers: one layer per instruction; the base image's come first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from imgopt.dockerfile_model import Dockerfile
from imgopt.layers import Analysis
from imgopt.rules import Finding

LAYER_MAKERS = ("RUN", "COPY", "ADD")


@dataclass(frozen=True)
class Recommendation:
    source: str  # "IMG004@7" for a rule finding, "layer 5" for an image-only one
    title: str
    bytes_saved: int
    seconds_saved: float


def layer_durations(config: dict[str, object]) -> list[float]:
    """Seconds each layer took to build, from consecutive history `created` stamps."""
    history = config.get("history", [])
    if not isinstance(history, list):
        return []
    stamps: list[tuple[datetime | None, bool]] = []
    for item in history:
        if not isinstance(item, dict):
            continue
        created = str(item.get("created", ""))
        try:
            stamp: datetime | None = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            stamp = None
        stamps.append((stamp, bool(item.get("empty_layer"))))
    durations, previous = [], None
    for stamp, empty in stamps:
        if not empty:
            seconds = (stamp - previous).total_seconds() if stamp and previous else 0.0
            durations.append(max(seconds, 0.0))
        previous = stamp or previous
    return durations


def line_layers(df: Dockerfile, layer_count: int) -> dict[int, int]:
    """Dockerfile line -> layer index, for the final stage's layer-making instructions."""
    makers = [i for i in df.stages[-1] if i.cmd in LAYER_MAKERS] if df.stages else []
    offset = layer_count - len(makers)
    return {i.start_line: offset + n for n, i in enumerate(makers) if offset + n >= 0}


def rank(findings: list[Finding], df: Dockerfile | None = None,
         analysis: Analysis | None = None, config: dict[str, object] | None = None
         ) -> list[Recommendation]:
    # BEGIN SOLUTION: estimate per finding from the layers it names; add image-only waste
    recommendations: list[Recommendation] = []
    mapping = line_layers(df, len(analysis.layers)) if df and analysis else {}
    durations = layer_durations(config or {})
    claimed: set[int] = set()
    for finding in findings:
        layer = mapping.get(finding.line)
        saved_bytes, saved_seconds = 0, 0.0
        if (analysis is not None and layer is not None and layer not in claimed
                and finding.rule in ("IMG004", "IMG007", "IMG003")):
            saved_bytes = sum(w.size for w in analysis.waste
                              if w.by_layer == layer and w.reason != "cache")
            saved_bytes += sum(w.size for w in analysis.waste
                               if w.reason == "cache" and w.layer == layer)
            claimed.add(layer)
        if finding.rule == "IMG001" and df is not None and durations:
            later = [i for i in df.instructions if i.cmd == "RUN" and i.start_line > finding.line]
            for instruction in later[:1]:
                index = mapping.get(instruction.start_line)
                if index is not None and index < len(durations):
                    saved_seconds = durations[index]
        recommendations.append(Recommendation(f"{finding.rule}@{finding.line}",
                                              finding.message, saved_bytes, saved_seconds))
    if analysis is not None:
        by_layer: dict[int, int] = {}
        for item in analysis.waste:
            culprit = item.by_layer if item.by_layer is not None else item.layer
            if culprit not in claimed:
                by_layer[culprit] = by_layer.get(culprit, 0) + item.size
        for layer_index, size in by_layer.items():
            summary = analysis.layers[layer_index]
            reasons = sorted({w.reason for w in analysis.waste
                              if (w.by_layer if w.by_layer is not None else w.layer)
                              == layer_index})
            recommendations.append(Recommendation(
                f"layer {layer_index}",
                f"`{summary.created_by[:80]}` leaves {size} bytes reclaimable "
                f"({', '.join(reasons)})", size, 0.0))
    return sorted(recommendations, key=lambda r: (-r.bytes_saved, -r.seconds_saved, r.source))
    # END SOLUTION
