"""`make run`: validate and render the fleet, start the emulated exporter, Prometheus (with
a month of backfilled DCGM history and the rules) and Alertmanager, print the chargeback.

Everything runs on loopback and stops at the end; outputs land in --out (build/demo)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import yaml
from aiinfra_shared.procs.ports import free_port, wait_for_http
from aiinfra_shared.procs.services import (
    BACKFILL_RETENTION,
    start_alertmanager,
    start_prometheus,
)

from gpufleet import backfill, rules
from gpufleet import fleet as fleetfile

HERE = Path(__file__).resolve().parent
FLEET = HERE / "fleet.yaml"
MONTH = "2026-11"


def gpufleet(*args: str) -> None:
    exe = Path(sys.executable).parent / "gpufleet"
    print(f"$ gpufleet {' '.join(args)}", flush=True)
    subprocess.run([str(exe), *args], check=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("build/demo"))
    out = parser.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    gpufleet("validate", "--fleet", str(FLEET))
    gpufleet("render", "--fleet", str(FLEET), "--out", str(out / "manifests"))
    gpufleet("monitoring", "--fleet", str(FLEET), "--out", str(out / "deploy"))
    fleet = fleetfile.load(FLEET)
    exe = Path(sys.executable).parent / "gpufleet"
    port = free_port()
    exporter = subprocess.Popen([str(exe), "exporter", "--emulate", "steady", "--port",
                                 str(port), "--hostname", "gpu-node-0"])
    work = out / "servers"
    am = prom = None
    try:
        wait_for_http(f"http://127.0.0.1:{port}/metrics", timeout=30)
        am = start_alertmanager(work / "alertmanager")
        print(f"exporter http://127.0.0.1:{port}/metrics (emulated NVML), "
              f"Alertmanager {am.url}", flush=True)
        history = work / "history.om"
        history.parent.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        truth = backfill.write(fleet, MONTH, history)
        config = {"global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
                  "rule_files": ["rules.yml"],
                  "alerting": {"alertmanagers": [{"static_configs": [
                      {"targets": [am.url.removeprefix("http://")]}]}]},
                  "scrape_configs": [{"job_name": "dcgm", "honor_labels": True,
                                      "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}]}
        backfill.load_blocks(work / "prometheus" / "data", history)  # one block per month
        prom = start_prometheus(work / "prometheus", config,
                                rule_files={"rules.yml": yaml.safe_dump(rules.rule_groups(fleet))},
                                retention=BACKFILL_RETENTION)
        print(f"backfilled {truth.samples} samples of {MONTH} in "
              f"{time.perf_counter() - began:.1f} s; Prometheus {prom.url}", flush=True)
        prom.wait_for_targets_up(timeout=30)
        live = prom.query('count(DCGM_FI_DEV_GPU_UTIL{emulated="true"})')
        print(f"live scrape: {live[0]['value'][1] if live else 0} emulated GPUs", flush=True)
        gpufleet("report", "--fleet", str(FLEET), "--prometheus", prom.url, "--month", MONTH,
                 "--out", str(out / "reports"))
        gpufleet("simulate", "--fleet", str(FLEET), "--trace",
                 str(HERE / "traces" / "month-sample.csv"))
    finally:
        exporter.terminate()
        exporter.wait(timeout=10)
        for server in (prom, am):
            if server is not None:
                server.stop()
    print(f"outputs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
