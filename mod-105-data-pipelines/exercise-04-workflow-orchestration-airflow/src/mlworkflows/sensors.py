"""Event-driven start of the data DAG: an AssetWatcher trigger that claims new data files.

Airflow 3 schedules a DAG on an asset whose `AssetWatcher` runs a `BaseEventTrigger` in the
triggerer: each event the trigger yields becomes an asset event, and the asset event queues a
run of the DAG. So no run exists (and nothing fails or alerts) while no file arrives, instead
of an hourly run whose sensor times out.

The trigger *claims* a file by renaming it from `incoming/` into `arrived/` (atomic on one
filesystem) and fires once per claimed file. It claims the next file only when `arrived/` is
empty again, i.e. once the run of the previous file has published or quarantined it: so each
run gets exactly one event and one file (Airflow folds asset events that arrive before a run
starts into one run), and a second triggerer (HA) or a restarted one cannot fire twice for the
same file (only one rename succeeds). Writers must create files atomically (write a hidden
temp file, then rename), as `mlworkflows sample-data` does: hidden files are never claimed.
"""

from __future__ import annotations

import asyncio
import glob
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent


def matching_files(pattern: str) -> list[str]:
    """Files (not folders, not hidden temp files) matching `pattern`, oldest first."""
    found = [p for p in glob.glob(pattern)  # noqa: PTH207  (absolute glob patterns)
             if Path(p).is_file() and not Path(p).name.startswith(".")]
    return sorted(found, key=lambda p: (Path(p).stat().st_mtime, p))


class IncomingFileTrigger(BaseEventTrigger):
    """Fires `{"path": <claimed file>, "name": ..., "bytes": ...}` once per new data file."""

    def __init__(self, *, incoming: str, arrived: str, pattern: str = "*.csv",
                 poke_interval: float = 5.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.incoming = incoming
        self.arrived = arrived
        self.pattern = pattern
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("mlworkflows.sensors.IncomingFileTrigger",
                {"incoming": self.incoming, "arrived": self.arrived, "pattern": self.pattern,
                 "poke_interval": self.poke_interval})

    def claim_next(self) -> dict[str, Any] | None:
        """Move the oldest incoming file into `arrived/`; None while one is still pending.

        Returns the event payload, or None when nothing was claimed (no file, the previous
        claim not processed yet, or another triggerer renamed the file first).
        """
        # BEGIN SOLUTION: one pending claim at a time; atomic rename; lose a race quietly
        arrived = Path(self.arrived)
        if matching_files(str(arrived / self.pattern)):
            return None
        for source in matching_files(str(Path(self.incoming) / self.pattern)):
            arrived.mkdir(parents=True, exist_ok=True)
            target = arrived / Path(source).name
            try:
                Path(source).rename(target)
            except FileNotFoundError:  # claimed by another triggerer in the meantime
                continue
            return {"path": str(target), "name": target.name, "bytes": target.stat().st_size}
        return None
        # END SOLUTION

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # BEGIN SOLUTION: poll (file system calls off the event loop), yield each claim
        while True:
            claimed = await asyncio.to_thread(self.claim_next)
            if claimed is not None:
                self.log.info("claimed %s", claimed["path"])
                yield TriggerEvent(claimed)  # type: ignore[no-untyped-call]
                continue
            await asyncio.sleep(self.poke_interval)
        # END SOLUTION
