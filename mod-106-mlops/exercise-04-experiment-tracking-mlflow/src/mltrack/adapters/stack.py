"""The local production-shaped stack: PostgreSQL + S3 (moto) + `mlflow server`.

`up` starts the three as detached process groups (they outlive the CLI) and records how to
reach and stop them in `<state_dir>/stack.json`; `down` stops them from that record;
`status` health-checks each.

Data outlives the stack: `down` first snapshots the database (`pg_dump`) and every object of
the artifact bucket into `<state_dir>/data/` (written beside it, then swapped in, so a failed
snapshot never replaces a good one) and `up` restores that snapshot into the fresh cluster and
bucket. `down --purge` stops the stack and deletes the snapshot.

The same `mlflow_server_command` is used by the test fixture, so the server the tests talk
to is started exactly as `mltrack server up` starts it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from aiinfra_shared.io import atomic_write_json
from aiinfra_shared.procs.ports import tcp_ready
from aiinfra_shared.procs.process import ServiceProcess, ServiceStartError
from aiinfra_shared.procs.services import start_moto_server, start_postgres
from botocore.exceptions import BotoCoreError, ClientError

from mltrack.adapters.s3 import ensure_bucket, list_keys
from mltrack.config import ServerSettings
from mltrack.errors import ConflictError, TrackingUnavailableError

STATE_FILE = "stack.json"
DATA_DIR = "data"
DUMP_FILE = "postgres.sql"
OBJECTS_DIR = "s3"


def mlflow_binary() -> str:
    """`mlflow` from this environment (next to the interpreter), else from PATH."""
    beside = Path(sys.executable).parent / "mlflow"
    if beside.exists():
        return str(beside)
    found = shutil.which("mlflow")
    if not found:
        raise TrackingUnavailableError("the `mlflow` command is not installed")
    return found


def mlflow_server_command(backend_store_uri: str, artifacts_destination: str, host: str,
                          port: int, workers: int = 1) -> list[str]:
    """`mlflow server` with a SQL backend and proxied artifacts (clients never see S3)."""
    return [mlflow_binary(), "server", "--backend-store-uri", backend_store_uri,
            "--artifacts-destination", artifacts_destination, "--serve-artifacts",
            "--host", host, "--port", str(port), "--workers", str(workers)]


def start_mlflow_server(backend_store_uri: str, artifacts_destination: str, host: str,
                        port: int, env: dict[str, str], log_path: Path, workers: int = 1,
                        timeout: float = 240.0) -> ServiceProcess:
    """Start the tracking server and wait for GET /health.

    The server's background job runner (GenAI scorers; 8 extra processes) is switched off:
    tracking and the registry do not use it, and on a small machine it doubles start-up time.
    """
    process = ServiceProcess(
        "mlflow-server",
        mlflow_server_command(backend_store_uri, artifacts_destination, host, port, workers),
        log_path, env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **env},
        ready_http=f"http://{host}:{port}/health", timeout=timeout,
    )
    return process.start()


@dataclass
class StackState:
    tracking_uri: str
    s3_endpoint: str
    bucket: str
    artifacts_destination: str
    backend_store_uri: str
    mlflow_pid: int
    moto_pid: int
    postgres_pid: int
    postgres_port: int
    postgres_data_dir: str
    postgres_bin_dir: str
    postgres_run_as: str | None
    log_dir: str
    started_at: float


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def read_state(state_dir: Path) -> StackState | None:
    path = state_path(state_dir)
    if not path.exists():
        return None
    return StackState(**json.loads(path.read_text()))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health(state: StackState) -> dict[str, dict[str, Any]]:
    """Component -> {up, url, detail}."""
    result: dict[str, dict[str, Any]] = {}
    pg_up = tcp_ready("127.0.0.1", state.postgres_port)
    result["postgres"] = {"up": pg_up, "url": state.backend_store_uri,
                          "detail": "accepting connections" if pg_up else "not listening"}
    for name, url in (("s3 (moto)", f"{state.s3_endpoint}/moto-api/data.json"),
                      ("mlflow", f"{state.tracking_uri}/health")):
        try:
            response = httpx.get(url, timeout=3)
            up, detail = response.status_code == 200, f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            up, detail = False, type(exc).__name__
        result[name] = {"up": up, "url": url.rsplit("/", 1)[0] if name == "mlflow"
                        else state.s3_endpoint, "detail": detail}
    return result


def up(settings: ServerSettings, state_dir: Path) -> StackState:
    """Start PostgreSQL, moto (with the bucket) and the MLflow server; record the state."""
    existing = read_state(state_dir)
    if existing is not None:
        if all(item["up"] for item in health(existing).values()):
            return existing
        down(state_dir, settings.database)  # half-dead: stop it (the last snapshot stays)
    if tcp_ready(settings.host, settings.port):
        raise ConflictError(f"port {settings.port} on {settings.host} is already in use; "
                            "set MLTRACK_SERVER__PORT to another port")
    log_dir = (state_dir / "logs").resolve()
    log_dir.mkdir(parents=True, exist_ok=True)
    postgres = moto = None
    try:
        postgres = start_postgres()
        postgres.create_database(settings.database)
        moto = start_moto_server(log_dir)
        ensure_bucket(moto.client("s3"), settings.bucket)
        if (data_path(state_dir) / DUMP_FILE).exists():
            restore(data_path(state_dir), postgres, settings.database, moto.client("s3"),
                    settings.bucket)
        backend = postgres.url(settings.database, driver="postgresql+psycopg2")
        destination = f"s3://{settings.bucket}/{settings.artifacts_prefix}"
        server = start_mlflow_server(backend, destination, settings.host, settings.port,
                                     env=moto.env, log_path=log_dir / "mlflow.log",
                                     workers=settings.workers,
                                     timeout=settings.startup_timeout_s)
    except (ServiceStartError, OSError, RuntimeError, subprocess.SubprocessError) as exc:
        for handle in (moto, postgres):
            if handle is not None:
                handle.stop()
        first = str(exc).splitlines()[0]
        raise TrackingUnavailableError(f"stack did not start: {first} (logs: {log_dir})"
                                       ) from exc
    state = StackState(
        tracking_uri=f"http://{settings.host}:{settings.port}",
        s3_endpoint=moto.endpoint_url, bucket=settings.bucket,
        artifacts_destination=destination, backend_store_uri=backend,
        mlflow_pid=server.pid or 0, moto_pid=moto.process.pid or 0,
        postgres_pid=postgres.process.pid or 0, postgres_port=postgres.port,
        postgres_data_dir=str(postgres.data_dir), postgres_bin_dir=str(postgres.bin_dir),
        postgres_run_as=postgres.run_as, log_dir=str(log_dir), started_at=time.time(),
    )
    atomic_write_json(state_path(state_dir), asdict(state))
    return state


def data_path(state_dir: Path) -> Path:
    return state_dir / DATA_DIR


def _pg_command(bin_dir: str, run_as: str | None, program: str, port: int, *args: str
                ) -> list[str]:
    """A PostgreSQL client program against the local cluster (as its user when root)."""
    command = [str(Path(bin_dir) / program), "-h", "127.0.0.1", "-p", str(port), "-U",
               "postgres", *args]
    return ["runuser", "-u", run_as, "--", *command] if run_as else command


def snapshot(state: StackState, database: str, target: Path) -> None:
    """Dump the database and download every bucket object into `target`, atomically."""
    # BEGIN SOLUTION: pg_dump + bucket objects into a sibling dir, then swap it in
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / OBJECTS_DIR).mkdir(parents=True)
    dump = subprocess.run(
        _pg_command(state.postgres_bin_dir, state.postgres_run_as, "pg_dump",
                    state.postgres_port, "--no-owner", database),
        capture_output=True, check=False, timeout=300)
    if dump.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise TrackingUnavailableError(
            f"pg_dump failed: {dump.stderr.decode(errors='replace').strip()[:300]}")
    (staging / DUMP_FILE).write_bytes(dump.stdout)
    client = _s3_client(state.s3_endpoint)
    try:
        for key in list_keys(client, state.bucket):
            path = staging / OBJECTS_DIR / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(client.get_object(Bucket=state.bucket, Key=key)["Body"].read())
    except (BotoCoreError, ClientError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise TrackingUnavailableError(f"copying the artifact bucket failed: {exc}") from exc
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    # END SOLUTION


def restore(source: Path, postgres: Any, database: str, s3: Any, bucket: str) -> None:
    """Load a snapshot made by `snapshot` into a fresh (empty) database and bucket."""
    # BEGIN SOLUTION: psql the dump, upload every object back
    command = _pg_command(str(postgres.bin_dir), postgres.run_as, "psql", postgres.port,
                          "-v", "ON_ERROR_STOP=1", "-q", "-d", database)
    loaded = subprocess.run(command, input=(source / DUMP_FILE).read_bytes(),
                            capture_output=True, check=False, timeout=300)
    if loaded.returncode != 0:
        raise RuntimeError(f"restoring {source / DUMP_FILE} failed: "
                           f"{loaded.stderr.decode(errors='replace').strip()[:300]}")
    objects = source / OBJECTS_DIR
    for path in sorted(p for p in objects.rglob("*") if p.is_file()):
        s3.put_object(Bucket=bucket, Key=path.relative_to(objects).as_posix(),
                      Body=path.read_bytes())
    # END SOLUTION


def _s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106


def keep_or_purge(state: StackState | None, state_dir: Path, database: str, purge: bool
                  ) -> str:
    """Before a stop: delete the kept data (`purge`) or snapshot a healthy stack into it."""
    # BEGIN SOLUTION: purge, snapshot a healthy stack, or keep the last snapshot
    kept = data_path(state_dir)
    if purge:
        shutil.rmtree(kept, ignore_errors=True)
        return f"data removed ({kept})"
    if state is not None and all(item["up"] for item in health(state).values()):
        snapshot(state, database, kept)
        return f"data kept in {kept}"
    return f"data kept in {kept} (last snapshot)" if kept.exists() else "no data kept"
    # END SOLUTION


def _stop_group(pid: int, grace: float = 10.0) -> None:
    if pid <= 0 or not _pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _pid_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def down(state_dir: Path, database: str = "mlflow", purge: bool = False
         ) -> tuple[bool, str]:
    """Stop everything recorded in the state file: (whether a stack was recorded, data note).

    Without `purge` a healthy stack is snapshotted into `<state_dir>/data` first (a failed
    snapshot stops nothing); a half-dead one is stopped and the previous snapshot is kept.
    With `purge` nothing is saved and the snapshot is deleted.
    """
    state = read_state(state_dir)
    if state is None and not purge:
        kept = data_path(state_dir)
        return False, f"data kept in {kept}" if kept.exists() else "no data kept"
    outcome = keep_or_purge(state, state_dir, database, purge)
    if state is None:
        return False, outcome
    _stop_group(state.mlflow_pid)
    _stop_group(state.moto_pid)
    pg_ctl = [str(Path(state.postgres_bin_dir) / "pg_ctl"), "-D", state.postgres_data_dir,
              "-m", "fast", "-w", "stop"]
    if state.postgres_run_as:
        pg_ctl = ["runuser", "-u", state.postgres_run_as, "--", *pg_ctl]
    if Path(state.postgres_data_dir).exists():
        subprocess.run(pg_ctl, capture_output=True, check=False, timeout=60)
    _stop_group(state.postgres_pid)
    shutil.rmtree(Path(state.postgres_data_dir).parent, ignore_errors=True)
    state_path(state_dir).unlink(missing_ok=True)
    return True, outcome
