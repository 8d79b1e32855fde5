"""Reports of one ScanResult: JSON (the complete record), SARIF 2.1.0 (code scanning UIs)
and a self-contained HTML page (Jinja2, inline CSS, no external assets).

Secrets appear only redacted (prefix + hash) in every format.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

from imgsec import __version__
from imgsec.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
               "unknown": "note"}


def to_dict(result: ScanResult) -> dict[str, Any]:
    image = result.image
    return {
        "tool": {"name": "imgsec", "version": __version__},
        "image": {"name": image.name, "image_id": image.image_id,
                  "manifest_digest": image.manifest_digest, "source": image.source,
                  "layers": [{"index": layer.index, "digest": layer.digest,
                              "created_by": _safe(layer.created_by)} for layer in image.layers]},
        "scorecard": result.scorecard.as_dict(),
        "database": result.db,
        "warnings": result.warnings,
        "packages": [{"name": p.name, "version": p.version, "type": p.type, "purl": p.purl,
                      "ecosystem": p.ecosystem, "layer": p.layer_index, "path": p.path,
                      "shadowed": p.shadowed, "removed_in": p.removed_in}
                     for p in result.inventory.packages],
        "vulnerabilities": [_vuln(f) for f in result.vulnerabilities],
        "suppressed": [{**_vuln(f), "statement": s.as_dict()} for f, s in result.suppressed],
        "unfixed_ignored": [_vuln(f) for f in result.unfixed_ignored],
        "secrets": [{"rule": s.rule, "location": s.location, "path": s.path, "line": s.line,
                     "layer": s.layer_index, "layer_digest": s.layer_digest,
                     "instruction": s.instruction, "deleted": s.deleted,
                     "redacted": s.redacted, "fingerprint": s.fingerprint}
                    for s in result.secrets],
        "checks": [{"id": c.id, "title": c.title, "level": c.level,
                    "evidence": list(c.evidence), "reason": c.reason} for c in result.checks],
        "lint": [{"code": x.code, "level": x.level, "message": x.message, "line": x.line,
                  "file": x.file} for x in result.lint],
    }


def _safe(created_by: str) -> str:
    from imgsec.secrets import HISTORY_ARGS

    return HISTORY_ARGS.sub("|ARGS ", created_by)[:200]


def _vuln(finding: Any) -> dict[str, Any]:
    p, m = finding.package, finding.match
    return {"id": m.vuln_id, "aliases": list(m.aliases), "severity": m.severity,
            "score": m.score, "cvss": m.cvss_vector, "package": p.name, "version": p.version,
            "purl": p.purl, "fixed": m.fixed, "layer": p.layer_index, "shadowed": p.shadowed,
            "summary": m.summary}


def to_sarif(result: ScanResult) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per vulnerability id / secret rule / check id, one result each.
    Locations are artifact URIs inside the image (`/path`, or the image name)."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []

    def add(rule_id: str, description: str, level: str, message: str, uri: str, line: int,
            properties: dict[str, Any]) -> None:
        rules.setdefault(rule_id, {"id": rule_id, "shortDescription": {"text": description or
                                                                        rule_id}})
        location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        if line > 0:
            location["region"] = {"startLine": line}
        results.append({"ruleId": rule_id, "level": level, "message": {"text": message},
                        "locations": [{"physicalLocation": location}],
                        "properties": properties})

    for f in result.vulnerabilities:
        add(f.match.vuln_id, f.match.summary, SARIF_LEVEL[f.match.severity],
            f"{f.package.name} {f.package.version} is affected by {f.match.vuln_id} "
            f"(severity {f.match.severity}; fixed in {f.match.fixed or 'no release'})",
            f.package.path, 0, {"purl": f.package.purl, "layer": f.package.layer_index,
                                "security-severity": str(f.match.score or "")})
    for s in result.secrets:
        add(f"secret/{s.rule}", f"secret: {s.rule}", "error",
            f"{s.rule} in {s.location} {s.path} ({s.redacted}, {s.fingerprint})"
            + (" in a file deleted by a later layer" if s.deleted else ""),
            s.path if s.location == "file" else result.image.name, s.line,
            {"layer": s.layer_index, "location": s.location})
    for c in result.checks:
        if c.failed:
            add(c.id, c.title, {"FATAL": "error", "WARN": "warning"}.get(c.level, "note"),
                f"{c.title}: {'; '.join(c.evidence) or c.level}", result.image.name, 0,
                {"level": c.level})
    for x in result.lint:
        add(x.code, x.message, {"error": "error", "warning": "warning"}.get(x.level, "note"),
            x.message, x.file, x.line, {"tool": "hadolint"})
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "imgsec", "version": __version__,
                            "informationUri": "https://github.com/aiinfra/imgsec",
                            "rules": list(rules.values())}},
        "results": results}]}


def to_html(result: ScanResult) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(resources.files("imgsec").joinpath(
        "templates/report.html.j2").read_text())
    return template.render(report=to_dict(result))
