"""CIS Docker Benchmark section 4 and Dockle's own checks, under Dockle's ids.

Each check reads the image model only (config, history, flattened files) and returns a
`CheckResult`: FATAL / WARN / INFO when it fails, PASS, or SKIP with the reason (checks that
need the Docker daemon or a human cannot be decided from an image).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from imgsec.layers import FlatView, file_content
from imgsec.model import Image
from imgsec.secrets import HISTORY_ARGS, SECRET_NAME, SecretFinding

LEVEL_SEVERITY = {"FATAL": "high", "WARN": "medium", "INFO": "low"}


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    level: str  # FATAL, WARN, INFO, PASS, SKIP
    evidence: tuple[str, ...] = field(default=())
    reason: str = ""  # for SKIP

    @property
    def failed(self) -> bool:
        return self.level in LEVEL_SEVERITY


@dataclass(frozen=True)
class Context:
    image: Image
    view: FlatView
    secrets: list[SecretFinding]

    def commands(self) -> list[str]:
        """History commands with their leaked build ARGs stripped (never show a secret)."""
        return [HISTORY_ARGS.sub("", h.created_by) for h in self.image.history]

    def text(self, path: str) -> str:
        return (file_content(self.image.layers, self.view, path) or b"").decode("utf-8", "replace")


Check = Callable[[Context], CheckResult]
SKIPPED = {
    "CIS-DI-0002": ("Use trusted base images", "needs a human decision about the base image"),
    "CIS-DI-0003": ("Do not install unnecessary packages", "needs a human decision"),
    "CIS-DI-0004": ("Scan and rebuild images", "a process, not a property of one image"),
    "CIS-DI-0005": ("Enable Content trust for Docker",
                    "daemon-only: DOCKER_CONTENT_TRUST is set on the client and daemon"),
    "CIS-DI-0011": ("Ensure secrets are not stored in Dockerfiles",
                    "needs the Dockerfile: scan it with `imgsec scan --dockerfile`"),
}


def _fail_if(evidence: list[str], check_id: str, title: str, level: str) -> CheckResult:
    return CheckResult(check_id, title, level if evidence else "PASS", tuple(evidence[:20]))


def cis_di_0001(ctx: Context) -> CheckResult:
    user = ctx.image.user.split(":")[0]
    bad = user in ("", "root", "0")
    return CheckResult("CIS-DI-0001", "Create a user for the container",
                       "WARN" if bad else "PASS",
                       (f"last user is {user if user else 'root (unset)'!r}",) if bad else ())


def cis_di_0006(ctx: Context) -> CheckResult:
    healthcheck = ctx.image.config.get("Healthcheck") or {}
    missing = not healthcheck or healthcheck.get("Test") in (None, [], ["NONE"])
    return CheckResult("CIS-DI-0006", "Add HEALTHCHECK instruction to the container image",
                       "INFO" if missing else "PASS",
                       ("no HEALTHCHECK in the image config",) if missing else ())


def cis_di_0007(ctx: Context) -> CheckResult:
    # BEGIN SOLUTION: a RUN that updates package lists without installing in the same command
    evidence = []
    for command in ctx.commands():
        updates = re.search(r"\b(apt-get|apt|apk|yum|dnf)\s+update\b", command)
        installs = re.search(r"\b(install|add|upgrade)\b", command)
        if updates and not installs:
            evidence.append(command.strip()[:160])
    # END SOLUTION
    return _fail_if(evidence, "CIS-DI-0007", "Do not use update instructions alone", "FATAL")


def cis_di_0008(ctx: Context) -> CheckResult:
    # BEGIN SOLUTION: regular files in the flat view with the setuid or setgid bit
    evidence = []
    for path, (_layer, entry) in sorted(ctx.view.files.items()):
        if entry.kind == "file" and entry.mode & (stat.S_ISUID | stat.S_ISGID):
            bits = "setuid" if entry.mode & stat.S_ISUID else "setgid"
            evidence.append(f"/{path} ({bits}, mode {entry.mode:04o})")
    # END SOLUTION
    return _fail_if(evidence, "CIS-DI-0008", "Confirm safety of setuid/setgid files", "INFO")


def cis_di_0009(ctx: Context) -> CheckResult:
    evidence = [c.strip()[:160] for c in ctx.commands()
                if re.search(r"(?:#\(nop\)\s*|^)ADD\s", c.strip())]
    return _fail_if(evidence, "CIS-DI-0009", "Use COPY instead of ADD in Dockerfile", "FATAL")


def cis_di_0010(ctx: Context) -> CheckResult:
    evidence = [f"{s.location} {s.path} ({s.rule})" for s in ctx.secrets]
    for key in ctx.image.env:
        if re.fullmatch(SECRET_NAME, key, re.IGNORECASE) and not any(
                s.location == "env" and s.path == key for s in ctx.secrets):
            evidence.append(f"env {key} (credential-like name)")
    return _fail_if(evidence, "CIS-DI-0010", "Do not store credential in environment "
                    "variables/files", "FATAL")


def dkl_di_0001(ctx: Context) -> CheckResult:
    evidence = [c.strip()[:160] for c in ctx.commands() if re.search(r"\bsudo\s", c)]
    return _fail_if(evidence, "DKL-DI-0001", "Avoid sudo command", "FATAL")


def dkl_di_0002(ctx: Context) -> CheckResult:
    sensitive = {"/", "/etc", "/proc", "/sys", "/dev", "/root", "/boot", "/usr", "/var/run",
                 "/var/run/docker.sock"}
    evidence = [v for v in (ctx.image.config.get("Volumes") or {}) if v.rstrip("/") in sensitive
                or v == "/"]
    return _fail_if(evidence, "DKL-DI-0002", "Avoid sensitive directory mounting", "FATAL")


def dkl_di_0003(ctx: Context) -> CheckResult:
    evidence = [c.strip()[:160] for c in ctx.commands()
                if re.search(r"\b(apt-get|apt)\s+(dist-upgrade|upgrade)\b", c)]
    return _fail_if(evidence, "DKL-DI-0003", "Avoid 'apt-get dist-upgrade'", "WARN")


def dkl_di_0004(ctx: Context) -> CheckResult:
    evidence = [c.strip()[:160] for c in ctx.commands()
                if re.search(r"\bapk\s+add\b", c) and "--no-cache" not in c]
    return _fail_if(evidence, "DKL-DI-0004", "Use 'apk add' with --no-cache", "FATAL")


def dkl_di_0005(ctx: Context) -> CheckResult:
    cached = [p for p in ctx.view.files if p.startswith("var/lib/apt/lists/")
              and not p.endswith("lock") and ctx.view.files[p][1].kind == "file"
              and not p.endswith("/partial")]
    return _fail_if([f"/{p}" for p in cached[:5]], "DKL-DI-0005", "Clear apt-get caches",
                    "FATAL")


def dkl_di_0006(ctx: Context) -> CheckResult:
    name = ctx.image.name
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
    bad = tag in ("", "latest")
    return CheckResult("DKL-DI-0006", "Avoid latest tag", "WARN" if bad else "PASS",
                       (f"image reference {name!r} has tag {tag or '(none)'}",) if bad else ())


def dkl_li_0001(ctx: Context) -> CheckResult:
    evidence = []
    for line in ctx.text("etc/shadow").splitlines():
        parts = line.split(":")
        if len(parts) > 1 and parts[1] == "":
            evidence.append(f"user {parts[0]} has an empty password in /etc/shadow")
    return _fail_if(evidence, "DKL-LI-0001", "Avoid empty password", "FATAL")


def dkl_li_0002(ctx: Context) -> CheckResult:
    seen: dict[str, str] = {}
    evidence = []
    for line in ctx.text("etc/passwd").splitlines():
        parts = line.split(":")
        if len(parts) > 2:
            if parts[2] in seen:
                evidence.append(f"uid {parts[2]} is shared by {seen[parts[2]]} and {parts[0]}")
            seen.setdefault(parts[2], parts[0])
    return _fail_if(evidence, "DKL-LI-0002", "Be unique UID", "WARN")


def dkl_li_0003(ctx: Context) -> CheckResult:
    unwanted = re.compile(r"(^|/)(\.git|\.DS_Store|\.npmrc|\.env|\.aws|\.ssh|id_rsa|"
                          r"Thumbs\.db)$")
    evidence = sorted(f"/{p}" for p in ctx.view.files if unwanted.search(p))
    return _fail_if(evidence, "DKL-LI-0003", "Only put necessary files", "INFO")


CHECKS: list[Check] = [cis_di_0001, cis_di_0006, cis_di_0007, cis_di_0008, cis_di_0009,
                       cis_di_0010, dkl_di_0001, dkl_di_0002, dkl_di_0003, dkl_di_0004,
                       dkl_di_0005, dkl_di_0006, dkl_li_0001, dkl_li_0002, dkl_li_0003]


def run_checks(image: Image, view: FlatView, secrets: list[SecretFinding]) -> list[CheckResult]:
    ctx = Context(image, view, secrets)
    results = [check(ctx) for check in CHECKS]
    results += [CheckResult(check_id, title, "SKIP", reason=reason)
                for check_id, (title, reason) in SKIPPED.items()]
    return sorted(results, key=lambda r: r.id)
