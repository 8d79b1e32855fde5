"""Blue/green deployment on this machine, with automatic rollback.

Per environment (`<state_dir>/<env>/`): two slots (`blue`, `green`), each an artifact folder
and possibly a running server; `live.json`, the atomic pointer clients read to find the live
server; `standby.json`, the previous live server, kept running so `rollback` is a pointer
switch; `history.json`, every deploy, failed deploy and rollback.

A deploy pulls into the slot that is not live, starts a server there, smoke-tests it, and only
then rewrites `live.json` (one rename). A failed start or smoke test stops the new server and
leaves the pointer, and the live server, untouched: the rollback is automatic.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json

from mlcicd.adapters import server
from mlcicd.adapters.registry import Registry
from mlcicd.errors import CheckFailedError, ConfigInvalidError, NotFoundError
from mlcicd.smoke import SmokeResult, smoke_test

ENVIRONMENTS = ("staging", "prod")
SLOTS = ("blue", "green")


@dataclass(frozen=True)
class DeployOptions:
    latency_budget_ms: float = 250.0
    smoke_requests: int = 20
    start_timeout_s: float = 30.0


class Environment:
    """The on-disk state of one environment; every write is atomic."""

    def __init__(self, state_dir: Path, name: str) -> None:
        if name not in ENVIRONMENTS:
            raise ConfigInvalidError(
                f"unknown environment {name!r} (use {' or '.join(ENVIRONMENTS)})")
        self.name = name
        self.root = state_dir / name

    def _read(self, file: str) -> dict[str, Any] | None:
        path = self.root / file
        return json.loads(path.read_text()) if path.exists() else None

    @property
    def live(self) -> dict[str, Any] | None:
        return self._read("live.json")

    @property
    def standby(self) -> dict[str, Any] | None:
        return self._read("standby.json")

    def history(self) -> list[dict[str, Any]]:
        return list((self._read("history.json") or {}).get("events", []))

    def record(self, event: dict[str, Any]) -> None:
        events = self.history()
        events.append({"at": datetime.now(UTC).isoformat(timespec="seconds"), **event})
        atomic_write_json(self.root / "history.json", {"environment": self.name,
                                                        "events": events})

    def set_pointer(self, file: str, value: dict[str, Any] | None) -> None:
        path = self.root / file
        if value is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_json(path, value)

    def slot_dir(self, slot: str) -> Path:
        return self.root / "slots" / slot


def resolve_ref(ref: str, registry_host: str, repository: str) -> str:
    """A bare tag (`1.0.3`, a git sha) means this project's repository in the registry."""
    return ref if "/" in ref else f"{registry_host}/{repository}:{ref}"


def deploy(env: Environment, registry: Registry, ref: str, options: DeployOptions
           ) -> dict[str, Any]:
    """Pull, start, smoke-test, switch. Raises CheckFailedError (after rolling back) on failure."""
    # BEGIN SOLUTION
    manifest = registry.manifest(ref)
    digest = registry.digest(ref)
    live = env.live
    slot = SLOTS[1] if live and live["slot"] == SLOTS[0] else SLOTS[0]
    standby = env.standby
    if standby and standby["slot"] == slot:  # the slot we need holds the old standby
        server.stop(standby.get("pid"))
        env.set_pointer("standby.json", None)
    folder = env.slot_dir(slot)
    incoming = folder.with_name(f".{slot}.incoming")
    shutil.rmtree(incoming, ignore_errors=True)
    registry.pull(ref, incoming)
    annotations = dict(manifest.get("annotations") or {})
    info = {"ref": ref, "digest": digest,
            "version": annotations.get("org.opencontainers.image.version", ""),
            "revision": annotations.get("org.opencontainers.image.revision", "")}
    (incoming / "artifact.json").write_text(json.dumps(info, indent=1) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    incoming.rename(folder)
    port = server.free_port()
    url = f"http://127.0.0.1:{port}"
    pid = server.start(folder, port, env.root / "logs" / f"{slot}.log")
    candidate = {"slot": slot, "port": port, "url": url, "pid": pid, **info}
    if not server.wait_healthy(url, pid, options.start_timeout_s):
        result = SmokeResult(False, {"start": "FAIL server did not become healthy"})
    else:
        result = smoke_test(url, folder, options.latency_budget_ms, options.smoke_requests)
    if not result.passed:
        server.stop(pid)
        env.record({"event": "deploy", "result": "rolled back", **info, "reason": result.reason,
                    "live": (live or {}).get("version")})
        kept = f"{live['version']} still serves" if live else "nothing was live"
        raise CheckFailedError(f"smoke test of {info['version'] or ref} failed ({result.reason}); "
                          f"rolled back: {kept}")
    env.set_pointer("live.json", candidate)  # the switch: one atomic rename
    if live:
        env.set_pointer("standby.json", live)
    env.record({"event": "deploy", "result": "live", **info, "slot": slot,
                "previous": (live or {}).get("version")})
    return candidate
    # END SOLUTION


def rollback(env: Environment, options: DeployOptions) -> dict[str, Any]:
    """Switch the pointer back to the standby server (restarting it if it stopped)."""
    # BEGIN SOLUTION
    standby, live = env.standby, env.live
    if not standby:
        raise NotFoundError(f"{env.name}: no previous deployment to roll back to")
    if not server.alive(standby.get("pid")) or not server.wait_healthy(
            standby["url"], standby["pid"], 2.0):
        port = server.free_port()
        url = f"http://127.0.0.1:{port}"
        pid = server.start(env.slot_dir(standby["slot"]), port,
                           env.root / "logs" / f"{standby['slot']}.log")
        if not server.wait_healthy(url, pid, options.start_timeout_s):
            server.stop(pid)
            raise CheckFailedError(f"{env.name}: the previous version {standby['version']} "
                                   "does not start; live deployment unchanged")
        standby = {**standby, "port": port, "url": url, "pid": pid}
    env.set_pointer("live.json", standby)
    env.set_pointer("standby.json", live)
    env.record({"event": "rollback", "result": "live", "version": standby["version"],
                "digest": standby["digest"], "from": (live or {}).get("version")})
    return standby
    # END SOLUTION


def smoke_live(env: Environment, options: DeployOptions) -> SmokeResult:
    live = env.live
    if not live:
        raise NotFoundError(f"{env.name}: nothing is deployed")
    return smoke_test(live["url"], env.slot_dir(live["slot"]), options.latency_budget_ms,
                      options.smoke_requests)


def stop_all(env: Environment) -> int:
    """Stop the live and standby servers (demo and test clean-up); pointers are kept."""
    stopped = 0
    for pointer in (env.live, env.standby):
        if pointer and server.alive(pointer.get("pid")):
            server.stop(pointer["pid"])
            stopped += 1
    if stopped:
        env.record({"event": "stop", "result": f"{stopped} server(s) stopped"})
    return stopped
