"""A deferrable sensor for new data files that needs no Airflow connection.

The standard FileSensor resolves its path through an `fs` connection; ours takes an absolute
glob from Settings so the DAG works on a fresh metadata DB. While waiting it defers to the
standard provider's FileTrigger, so no worker slot is held (the triggerer polls instead).
"""

from __future__ import annotations

import glob
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.triggers.file import FileTrigger
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException


def matching_files(pattern: str) -> list[str]:
    """Files (not folders, not hidden temp files) matching `pattern`, oldest first."""
    found = [p for p in glob.glob(pattern)  # noqa: PTH207  (absolute glob patterns)
             if Path(p).is_file() and not Path(p).name.startswith(".")]
    return sorted(found, key=lambda p: (Path(p).stat().st_mtime, p))


class NewFileSensor(BaseSensorOperator):
    template_fields = ("pattern",)

    def __init__(self, *, pattern: str, deferrable: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pattern = pattern
        self.deferrable = deferrable

    def poke(self, context: Any) -> bool:
        return bool(matching_files(self.pattern))

    def execute(self, context: Any) -> None:
        # BEGIN SOLUTION: return if a file is there, else defer to a FileTrigger (execute_complete)
        if not self.deferrable:
            super().execute(context)
            return
        if self.poke(context):
            return
        self.defer(trigger=FileTrigger(filepath=self.pattern, poke_interval=self.poke_interval),
                   method_name="execute_complete", timeout=timedelta(seconds=self.timeout))
        # END SOLUTION

    def execute_complete(self, context: Any, event: Any = None) -> None:
        if not event:
            raise AirflowFailException(f"no file matched {self.pattern}")
