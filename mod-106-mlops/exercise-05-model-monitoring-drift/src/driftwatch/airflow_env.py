"""A real Airflow 3.3 api-server for tests and the demo, from a side virtual environment.

Airflow's dependency tree does not belong in driftwatch's own environment, so it lives in a
venv built from `deploy/airflow/requirements.txt` (hash-pinned) and cached under the hash of
that file: the first build takes ~30 s (seconds from uv's cache), later ones none. The
server runs without a scheduler (runs stay queued) on SQLite with the simple auth manager.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aiinfra_shared.procs import ServiceProcess, free_port

from driftwatch.errors import UnavailableError

EXERCISE_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = EXERCISE_ROOT / "deploy" / "airflow" / "requirements.txt"
DAGS = EXERCISE_ROOT / "deploy" / "airflow" / "dags"


class AirflowEnvError(UnavailableError):
    """The side venv could not be built or the server did not start."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("DRIFTWATCH_SIDE_VENVS", Path(base) / "driftwatch"))


def ensure_venv(requirements: Path = REQUIREMENTS, root: Path | None = None) -> Path:
    """The venv for `requirements`, built if missing; returns its `bin` folder."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    venv = (root or cache_root()) / f"airflow-{digest}"
    marker = venv / ".complete"
    if marker.is_file():
        return venv / "bin"
    uv = shutil.which("uv")
    if uv is None:
        raise AirflowEnvError("uv is not on PATH: it builds the Airflow side venv")
    if venv.exists():
        shutil.rmtree(venv)  # a half-built venv from an interrupted build
    for command in ([uv, "venv", "--quiet", "--python", "3.11", str(venv)],
                    [uv, "pip", "install", "--quiet", "--require-hashes", "--python",
                     str(venv / "bin" / "python"), "-r", str(requirements)]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AirflowEnvError(f"{' '.join(command[:3])} failed: {done.stderr[-400:]}")
    marker.write_text(digest + "\n")
    return venv / "bin"


@dataclass
class AirflowServer:
    process: ServiceProcess
    url: str
    username: str
    password: str
    home: Path

    def stop(self) -> None:
        self.process.stop()


def start_api_server(home: Path, password: str = "driftwatch",  # noqa: S107 - loopback only
                     dags: Path = DAGS, timeout: float = 120.0) -> AirflowServer:
    """`db migrate`, `dags reserialize`, then `airflow api-server` on a free port."""
    bin_dir = ensure_venv()
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": password}))
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    airflow = str(bin_dir / "airflow")
    for step in (["db", "migrate"], ["dags", "reserialize"]):
        done = subprocess.run([airflow, *step], env=env, capture_output=True, text=True,
                              check=False, timeout=timeout)
        if done.returncode != 0:
            raise AirflowEnvError(f"airflow {' '.join(step)} failed: {done.stderr[-600:]}")
    url = f"http://127.0.0.1:{port}"
    process = ServiceProcess("airflow-api-server", [airflow, "api-server"],
                             home / "api-server.log", env=env,
                             ready_http=f"{url}/api/v2/monitor/health", timeout=timeout)
    process.start()
    return AirflowServer(process, url, "admin", password, home)
