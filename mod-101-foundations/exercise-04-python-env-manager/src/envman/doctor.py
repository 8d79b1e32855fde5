"""`envman doctor`: find drift between spec, lock and environment, explain it, repair it.

Each finding says what is wrong, why it matters and which repair `--fix` applies. Repairs are
ordered: rebuild (interpreter problems) > lock (stale lock) > sync (package drift).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from envman import envs
from envman.adapters.base import installed_packages
from envman.adapters.registry import get_backend
from envman.context import BASE_PACKAGES, Context, env_python, read_env_state
from envman.errors import CorruptEnvError, NoEnvError
from envman.interpreters import probe_version

Fix = Literal["create", "lock", "sync", "none"]
_ORDER: dict[str, int] = {"create": 0, "lock": 1, "sync": 2, "none": 3}


@dataclass(frozen=True)
class Finding:
    check: str
    problem: str
    fix: Fix

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def diagnose(ctx: Context) -> list[Finding]:
    # BEGIN SOLUTION: lock, env, interpreter, backend, packages vs lock, pip check
    findings: list[Finding] = []
    env = ctx.env_dir
    stale = envs.lock_is_stale(ctx)
    if stale:
        findings.append(Finding("lock", "lock is missing or older than envman.toml "
                                "(dependencies changed since the last `envman lock`)", "lock"))
    try:
        envs.check_env(env)
    except NoEnvError:
        findings.append(Finding("environment", f"{env.name} does not exist", "create"))
        return findings
    except CorruptEnvError as exc:
        findings.append(Finding("interpreter", exc.format_message(), "create"))
        return findings
    version = probe_version(env_python(env)) or ""
    wanted = ctx.spec.project.python
    if not (version == wanted or version.startswith(wanted + ".")):
        findings.append(Finding("interpreter", f"environment runs Python {version}, "
                                f"envman.toml asks for {wanted}", "create"))
        return findings
    state = read_env_state(env)
    if state.get("backend") and state["backend"] != ctx.spec.project.backend:
        findings.append(Finding("backend", f"environment was built by {state['backend']}, "
                                f"envman.toml says {ctx.spec.project.backend}", "create"))
    installed = installed_packages(env_python(env))
    dev, groups = bool(state.get("dev", True)), tuple(state.get("groups", []))
    declared = ctx.spec.declared_names(dev=dev, groups=groups)
    if stale:
        # Without a current lock, compare against the direct declarations only.
        for name in sorted(declared - set(installed)):
            findings.append(Finding("missing", f"{name} is declared but not installed", "sync"))
    else:
        locked = get_backend(ctx.spec.project.backend).locked(ctx, dev, groups)
        for name, version_locked in sorted(locked.items()):
            have = installed.get(name)
            if have is None:
                findings.append(Finding("missing", f"{name}=={version_locked} is declared "
                                        "(locked) but not installed", "sync"))
            elif have != version_locked:
                findings.append(Finding("version", f"{name} is {have}, the lock says "
                                        f"{version_locked}", "sync"))
        for name in sorted(set(installed) - set(locked) - BASE_PACKAGES):
            findings.append(Finding("undeclared", f"{name}=={installed[name]} is installed but "
                                    "not declared in envman.toml or its lock", "sync"))
    for conflict in get_backend(ctx.spec.project.backend).check(ctx, env):
        findings.append(Finding("conflicts", f"pip check: {conflict}", "sync"))
    return findings
    # END SOLUTION


def repair(ctx: Context, findings: list[Finding]) -> list[str]:
    """Apply the strongest repair the findings call for; return what was done."""
    # BEGIN SOLUTION: apply the strongest fix: lock if stale, then rebuild or sync
    fixes = sorted({f.fix for f in findings if f.fix != "none"}, key=_ORDER.__getitem__)
    done: list[str] = []
    if not fixes:
        return done
    state = read_env_state(ctx.env_dir)
    dev, groups = bool(state.get("dev", True)), tuple(state.get("groups", []))
    if "lock" in fixes:
        envs.lock(ctx)
        done.append("locked")
    if fixes[0] == "create":
        envs.create(ctx, dev, groups)
        done.append("rebuilt environment")
    elif "sync" in fixes or "lock" in fixes:
        envs.sync(ctx, dev, groups)
        done.append("synced environment")
    return done
    # END SOLUTION
