"""Serving one role with uvicorn, single process or several workers.

With `workers > 1` prometheus_client must run in multiprocess mode: the directory in
$PROMETHEUS_MULTIPROC_DIR is emptied before the workers start (stale files from an earlier
run would be merged into the counts) and each worker writes its values and exemplars there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from obsstack.config import Settings
from obsstack.services import ROLE_ENV, ROLES
from obsstack.telemetry import MULTIPROC_ENV


def serve(role: str, port: int, workers: int = 1, settings: Settings | None = None,
          config_file: Path | None = None) -> None:
    """Run `role` on `settings.host:port` until interrupted."""
    import uvicorn

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (choose from {', '.join(ROLES)})")
    settings = settings or Settings.load(config_file)
    if workers > 1:
        directory = os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(
            prefix=f"obsstack-{role}-metrics-")
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)
        os.environ[MULTIPROC_ENV] = directory
        os.environ[ROLE_ENV] = role
        if config_file is not None:
            os.environ["OBSSTACK_CONFIG"] = str(config_file)
        uvicorn.run("obsstack.services:app_from_env", factory=True, host=settings.host,
                    port=port, workers=workers, log_level="warning", access_log=False)
        return
    from obsstack.services import create_app

    uvicorn.run(create_app(role, settings), host=settings.host, port=port,
                log_level="warning", access_log=False)
