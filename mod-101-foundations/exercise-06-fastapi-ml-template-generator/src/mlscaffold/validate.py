"""`mlscaffold validate`: check a project against the platform standards the templates encode.

Static checks (files, lock, Dockerfile, manifests, CI workflow) need no Docker or cluster.
Runtime checks prove what matters most and what no string search can: in the project's own
uv environment the app imports and builds, its OpenAPI schema is valid (openapi-spec-validator),
`GET /health` answers 200 through the app's lifespan, and the project's test suite passes
(`--static` skips them, e.g. offline). Each check says what it looked for and what it found.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiinfra_shared.config import ConfigError
from openapi_spec_validator import validate as validate_openapi

from mlscaffold.adapters.project_env import ProjectEnvError, probe_app, run_project_tests
from mlscaffold.answers import AnswersRecord
from mlscaffold.templates import load_templates

REQUIRED_FILES = ("pyproject.toml", "uv.lock", "README.md", "Makefile", "Dockerfile",
                  ".dockerignore",
                  "docker-compose.yml", "k8s/deployment.yaml", "k8s/service.yaml",
                  "k8s/hpa.yaml", ".github/workflows/ci.yml", ".pre-commit-config.yaml")
ROUTES = ("/health", "/ready", "/metrics", "/info", "/predict")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


def _dockerfile_stages(text: str) -> list[list[str]]:
    """Instructions per stage (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n", " ", text)
    stages: list[list[str]] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def check_dockerfile(text: str) -> list[Check]:
    # BEGIN SOLUTION: multi-stage, pinned bases, non-root USER, HEALTHCHECK in last stage
    stages = _dockerfile_stages(text)
    checks = [Check("dockerfile multi-stage", len(stages) >= 2, f"{len(stages)} stage(s)")]
    images = [s[0].split()[1] for s in stages if len(s[0].split()) > 1]
    unpinned = [i for i in images if ":" not in i or i.endswith(":latest")]
    checks.append(Check("dockerfile pinned base", bool(images) and not unpinned,
                        "unpinned: " + ", ".join(unpinned) if unpinned else ", ".join(images)))
    final = stages[-1] if stages else []
    users = [line.split(None, 1)[1].strip() for line in final if line.upper().startswith("USER ")]
    user = users[-1] if users else "root (no USER)"
    non_root = bool(users) and user.split(":")[0] not in {"root", "0"}
    checks.append(Check("dockerfile non-root user", non_root, f"final stage runs as {user}"))
    health = any(line.upper().startswith("HEALTHCHECK ") and "NONE" not in line.upper()
                 for line in final)
    checks.append(Check("dockerfile healthcheck", health,
                        "HEALTHCHECK present" if health else "no HEALTHCHECK in final stage"))
    return checks
    # END SOLUTION


def _load_docs(path: Path) -> list[dict[str, Any]]:
    try:
        return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    except (OSError, yaml.YAMLError):
        return []


def check_manifests(k8s_dir: Path) -> list[Check]:
    # BEGIN SOLUTION: Deployment, Service, HPA; probes, resources and runAsNonRoot
    docs = [d for f in sorted(k8s_dir.glob("*.y*ml")) for d in _load_docs(f)]
    kinds = {d.get("kind") for d in docs}
    deployments = [d for d in docs if d.get("kind") == "Deployment"]
    checks = [Check("k8s objects", {"Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds,
                    "found: " + ", ".join(sorted(str(k) for k in kinds)))]
    containers = [c for d in deployments
                  for c in d.get("spec", {}).get("template", {}).get("spec", {})
                  .get("containers", [])]
    probe_problems, resource_problems = [], []
    for c in containers:
        live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
        ready = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
        if live != "/health" or ready != "/ready":
            probe_problems.append(f"{c.get('name')}: liveness={live} readiness={ready}")
        res = c.get("resources", {})
        for part in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(res.get(part, {}))
            if missing:
                resource_problems.append(f"{c.get('name')}: {part} lacks {sorted(missing)}")
    checks.append(Check("k8s probes", bool(containers) and not probe_problems,
                        "; ".join(probe_problems) or
                        ("liveness /health, readiness /ready" if containers else
                         "no Deployment container")))
    checks.append(Check("k8s resources", bool(containers) and not resource_problems,
                        "; ".join(resource_problems) or "requests and limits set"))
    non_root = bool(deployments) and all(
        d["spec"]["template"]["spec"].get("securityContext", {}).get("runAsNonRoot") is True
        or all(c.get("securityContext", {}).get("runAsNonRoot") is True
               for c in d["spec"]["template"]["spec"].get("containers", []))
        for d in deployments)
    checks.append(Check("k8s runAsNonRoot", non_root,
                        "runAsNonRoot: true" if non_root else "runAsNonRoot not set"))
    return checks
    # END SOLUTION


def check_sources(project: Path) -> list[Check]:
    # BEGIN SOLUTION: service routes in the sources, tests present, CI runs pytest
    sources = "\n".join(p.read_text(errors="replace") for p in (project / "src").rglob("*.py")) \
        if (project / "src").is_dir() else ""
    missing = [r for r in ROUTES if f'"{r}"' not in sources]
    tests = sorted((project / "tests").glob("test_*.py")) if (project / "tests").is_dir() else []
    n_tests = sum(len(re.findall(r"^\s*(?:async\s+)?def test_", t.read_text(), re.M))
                  for t in tests)
    workflow = project / ".github/workflows/ci.yml"
    ci_tests = workflow.is_file() and "pytest" in workflow.read_text()
    return [
        Check("service endpoints", not missing,
              "missing: " + ", ".join(missing) if missing else ", ".join(ROUTES)),
        Check("tests present", n_tests > 0, f"{n_tests} test function(s) in {len(tests)} file(s)"),
        Check("ci runs tests", ci_tests, "workflow runs pytest" if ci_tests else
              "no pytest step in .github/workflows/ci.yml"),
    ]
    # END SOLUTION


def check_ci_installs_uv(workflow_text: str) -> Check:
    """Every job that runs uv must set it up first (a runner image has no uv)."""
    # BEGIN SOLUTION: per job, astral-sh/setup-uv must come before the first uv command
    try:
        jobs = (yaml.safe_load(workflow_text) or {}).get("jobs", {}) or {}
    except yaml.YAMLError as exc:
        return Check("ci installs uv", False, f"workflow is not valid YAML: {exc}")
    bad = []
    for name, job in jobs.items():
        steps = job.get("steps", []) if isinstance(job, dict) else []
        has_uv = False
        for step in steps:
            if "astral-sh/setup-uv" in str(step.get("uses", "")):
                has_uv = True
            elif re.search(r"\buv (sync|run|lock|pip|build)\b", str(step.get("run", ""))) \
                    and not has_uv:
                bad.append(str(name))
                break
    return Check("ci installs uv", bool(jobs) and not bad,
                 "jobs call uv without setup-uv: " + ", ".join(bad) if bad else
                 "every job that runs uv sets it up first")
    # END SOLUTION


def check_runtime(project: Path, package: str, timeout: float = 600.0) -> list[Check]:
    """Run the project: app imports, valid OpenAPI, /health answers 200, its tests pass."""
    # BEGIN SOLUTION: probe the app in its env, validate the schema, run the suite
    try:
        probe = probe_app(project, package, timeout)
    except ProjectEnvError as exc:
        return [Check("app imports", False, str(exc))]
    if "import_error" in probe:
        return [Check("app imports", False, f"{package}.main.create_app(): "
                                            f"{probe['import_error']}")]
    checks = [Check("app imports", True, f"{package}.main.create_app() builds the app")]
    if "openapi" in probe:
        try:
            validate_openapi(probe["openapi"])
            paths = probe["openapi"].get("paths", {})
            missing = [r for r in ROUTES if r not in paths]
            checks.append(Check("openapi schema valid", not missing,
                                f"missing routes: {', '.join(missing)}" if missing else
                                f"OpenAPI {probe['openapi'].get('openapi')}, "
                                f"{len(paths)} paths"))
        except Exception as exc:  # the validator raises many kinds of errors
            checks.append(Check("openapi schema valid", False,
                                f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
    else:
        checks.append(Check("openapi schema valid", False, probe.get("openapi_error", "none")))
    status, body = probe.get("health", [None, probe.get("health_error", "no answer")])
    checks.append(Check("/health answers", status == 200,
                        f"GET /health -> {status} {body}" if status else str(body)))
    try:
        passed, summary = run_project_tests(project, timeout)
    except ProjectEnvError as exc:
        passed, summary = False, str(exc)
    checks.append(Check("project tests pass", passed, summary))
    return checks
    # END SOLUTION


def validate_project(project: Path, templates_dir: Path | None = None, runtime: bool = True,
                     timeout: float = 600.0) -> list[Check]:
    """All checks for `project` (a directory); failures are results, not exceptions."""
    if not project.is_dir():
        raise FileNotFoundError(f"project directory {project} does not exist")
    checks: list[Check] = []
    try:
        record = AnswersRecord.read(project)
        known = record.template in load_templates(templates_dir)
        checks.append(Check("generated by mlscaffold", known,
                            f"template {record.template} {record.template_version}"
                            + ("" if known else " (unknown template)")))
    except ConfigError as exc:
        checks.append(Check("generated by mlscaffold", False, str(exc)))
    missing = [f for f in REQUIRED_FILES if not (project / f).is_file()]
    checks.append(Check("required files", not missing,
                        "missing: " + ", ".join(missing) if missing else
                        f"{len(REQUIRED_FILES)} files present"))
    dockerfile = project / "Dockerfile"
    checks += check_dockerfile(dockerfile.read_text() if dockerfile.is_file() else "")
    checks += check_manifests(project / "k8s")
    checks += check_sources(project)
    workflow = project / ".github/workflows/ci.yml"
    checks.append(check_ci_installs_uv(workflow.read_text() if workflow.is_file() else ""))
    if runtime:
        package = project.name.replace("-", "_")
        with contextlib.suppress(ConfigError):
            package = AnswersRecord.read(project).answers.get("project_name",
                                                              project.name).replace("-", "_")
        checks += check_runtime(project, package, timeout)
    return checks
