"""A per-model promotion lock held on the tracking server, so it serialises every client.

The lock is a registered model named `<model>.mltrack-lock`: creating a registered model is
an atomic create-if-absent on the server (unique name), so of two promotions racing exactly
one gets it; the other waits (polling) up to `wait_s`, then fails with a conflict. Its tags
say who holds it and since when. Release deletes it. A lock whose holder died is abandoned:
its process is gone (same host) or it is older than `lease_s`; the next client breaks it.
A create whose response was lost and whose retry then sees "already exists" is recognised
by the holder token: the retrying client owns the lock it finds.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from mltrack.adapters.mlflow_server import Tracker
from mltrack.errors import ConflictError

LOCK_SUFFIX = ".mltrack-lock"
HOLDER, HOST, PID, SINCE = ("mltrack.lock.holder", "mltrack.lock.host", "mltrack.lock.pid",
                            "mltrack.lock.since")


def lock_name(model: str) -> str:
    return f"{model}{LOCK_SUFFIX}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def abandoned(tags: dict[str, str], lease_s: float, now: float) -> bool:
    """True when the lock's holder is a dead process on this host or the lease ran out."""
    # BEGIN SOLUTION: dead local holder, or older than the lease
    try:
        since, pid = float(tags.get(SINCE, "0")), int(tags.get(PID, "0"))
    except ValueError:
        return True
    if now - since > lease_s:
        return True
    return tags.get(HOST) == socket.gethostname() and pid > 0 and not _pid_alive(pid)
    # END SOLUTION


@contextmanager
def model_lock(tracker: Tracker, model: str, *, wait_s: float, lease_s: float,
               poll_s: float = 0.25, sleep: Callable[[float], None] = time.sleep
               ) -> Iterator[str]:
    """Hold the promotion lock of `model` for the duration of the block; yield its token."""
    # BEGIN SOLUTION: create-if-absent with a token, wait/break, release only our own
    name = lock_name(model)
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    deadline = time.monotonic() + wait_s
    while True:
        tags = {HOLDER: token, HOST: socket.gethostname(), PID: str(os.getpid()),
                SINCE: f"{time.time():.3f}"}
        if tracker.try_create_model(name, tags, f"mltrack promotion lock of {model!r}"):
            break
        current = tracker.find_model(name)
        if current is None:
            continue  # released between our create and our read
        held = dict(current.tags)
        if held.get(HOLDER) == token:
            break  # our create landed; only its answer was lost
        if abandoned(held, lease_s, time.time()):
            tracker.delete_model(name)
            continue
        if time.monotonic() >= deadline:
            since = datetime.fromtimestamp(float(held.get(SINCE, "0")), UTC)
            raise ConflictError(
                f"model {model!r} is being promoted by {held.get(HOST, '?')} pid "
                f"{held.get(PID, '?')} since {since.isoformat(timespec='seconds')}; gave up "
                f"after {wait_s:g}s (an abandoned lock is broken after lock_lease_s)")
        sleep(poll_s)
    try:
        yield token
    finally:
        current = tracker.find_model(name)
        if current is not None and dict(current.tags).get(HOLDER) == token:
            tracker.delete_model(name)
    # END SOLUTION
