"""Where snapshots go: a local Evidently workspace, and an Evidently UI service if configured.

`Workspace(path)` is the same storage `evidently ui --workspace path` serves;
`RemoteWorkspace(url, secret)` talks to a running UI service (the secret guards writes).
Projects are found by name, created on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftwatch.errors import AuthError, UnavailableError


def _project(workspace: Any, name: str, description: str) -> Any:
    found = workspace.search_project(name)
    if found:
        return found[0]
    return workspace.create_project(name, description=description)


class SnapshotStore:
    """Adds snapshots to a local workspace and, when `ui_url` is set, to the UI service."""

    def __init__(self, path: Path, ui_url: str | None = None, secret: str | None = None,
                 project: str = "driftwatch") -> None:
        from evidently.ui.workspace import RemoteWorkspace, Workspace

        self.project_name = project
        self.local = Workspace(str(path))
        self.remote: Any = None
        if ui_url:
            try:
                self.remote = RemoteWorkspace(ui_url.rstrip("/"), secret=secret)
            except Exception as exc:  # requests' errors or evidently's ValueError
                raise UnavailableError(f"Evidently UI at {ui_url} is not reachable "
                                       f"({type(exc).__name__})") from exc

    def add(self, snapshot: Any, name: str) -> dict[str, str]:
        """Store `snapshot` under `name`; returns {"local": id, "remote": id?}."""
        ids: dict[str, str] = {}
        project = _project(self.local, self.project_name, "driftwatch window snapshots")
        ids["local"] = str(self.local.add_run(project.id, snapshot, name=name).id)
        if self.remote is not None:
            try:
                remote_project = _project(self.remote, self.project_name,
                                          "driftwatch window snapshots")
                ids["remote"] = str(self.remote.add_run(remote_project.id, snapshot,
                                                        name=name).id)
            except Exception as exc:
                text = str(exc)
                if "401" in text or "403" in text or "permission" in text.lower():
                    raise AuthError("Evidently UI rejected the secret "
                                    "(set DRIFTWATCH_EVIDENTLY__UI_SECRET)") from exc
                raise UnavailableError(f"Evidently UI: cannot add snapshot "
                                       f"({type(exc).__name__}: {text[:120]})") from exc
        return ids
