"""`make run`: a simulated week with drift and late labels, end to end, on real servers.

Starts a Pushgateway and an Airflow api-server (side venv), then runs the same commands a
user would: simulate -> reference build -> run -> decide (twice: the second is a no-op for
Airflow) -> report, and prints where each artefact is. Servers stop at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(out: Path, ctx: click.Context, cli: click.Group) -> None:
    from aiinfra_shared.procs import MissingBinaryError, start_pushgateway

    from driftwatch.airflow_env import start_api_server

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    data, home = out / "data", out / "home"
    servers: list[Any] = []
    try:
        click.echo("starting a Pushgateway and an Airflow api-server (first time: builds a "
                   "side venv) ...")
        try:
            gateway = start_pushgateway(out / "pushgateway")
            servers.append(gateway)
            gateway_url: str | None = gateway.url
        except MissingBinaryError as exc:
            click.echo(f"  no Pushgateway ({exc}); metrics will not be pushed")
            gateway_url = None
        airflow = start_api_server(out / "airflow")
        servers.append(airflow)
        env = {"DRIFTWATCH_HOME": str(home), "DRIFTWATCH_AIRFLOW__URL": airflow.url,
               "DRIFTWATCH_AIRFLOW__PASSWORD": airflow.password}
        if gateway_url:
            env["DRIFTWATCH_PUSHGATEWAY_URL"] = gateway_url
        with _env(env):
            from driftwatch.config import Settings

            dag_id = Settings.load(ctx.obj["settings_file"]).dag_id
            def call(*args: str) -> None:
                click.secho(f"$ driftwatch {' '.join(args)}", bold=True)
                cli.main(list(args), standalone_mode=False)

            call("simulate", "--out", str(data))
            call("reference", "build", "--training", str(data / "training.parquet"),
                 "--contract", str(data / "contract.yaml"))
            call("run", "--predictions", str(data / "predictions.jsonl"),
                 "--labels", str(data / "labels.jsonl"))
            call("decide")
            call("decide")  # same decision id -> Airflow answers 409 -> still one run
            call("report")
            with httpx.Client(base_url=airflow.url, timeout=10) as http:
                token = http.post("/auth/token", json={"username": "admin",
                                                       "password": airflow.password}
                                  ).json()["access_token"]
                runs = http.get(f"/api/v2/dags/{dag_id}/dagRuns",
                                headers={"Authorization": f"Bearer {token}"}).json()
            click.echo(f"Airflow holds {runs['total_entries']} run(s) of {dag_id}: "
                       + ", ".join(f"{r['dag_run_id']} ({r['state']})"
                                   for r in runs["dag_runs"]))
            if gateway_url:
                text = httpx.get(f"{gateway_url}/metrics", timeout=10).text
                pushed = [line for line in text.splitlines()
                          if line.startswith("driftwatch_drifted_columns_share")]
                click.echo(f"Pushgateway: {pushed[0] if pushed else 'nothing pushed'}")
        click.echo("\nwhere to look:")
        click.echo(f"  window results   {home / 'results'}")
        click.echo(f"  HTML reports     {home / 'reports'}")
        click.echo(f"  decision log     {home / 'audit' / 'decisions.jsonl'}")
        click.echo(f"  Evidently UI     DRIFTWATCH_HOME={home} uv run driftwatch ui")
        click.echo("  alert rules      deploy/prometheus/alerts.yml, dashboard "
                   "deploy/grafana/driftwatch.json")
    finally:
        for server in reversed(servers):
            server.stop()
