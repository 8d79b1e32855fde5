"""`drkit demo` (what `make run` does): start primary, standby and two moto regions, seed
a model registry table whose artifacts live in S3, replicate the artifacts, take a backup,
run drills and print the RTO/RPO table. Everything is torn down at the end."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiinfra_shared.io import atomic_write_json, atomic_write_text

from drkit.adapters import postgres as pg
from drkit.adapters.s3 import ObjectStore
from drkit.drills import DrillState, MarkerWriter, run_drill, step_backup
from drkit.localstack import LocalStack, build_local_stack
from drkit.playbooks import update_playbooks
from drkit.replicator import replicate
from drkit.report import DrillResult, results_markdown
from drkit.scenarios import Scenario, parse_scenario

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


def builtin_scenario(name: str) -> Scenario:
    path = SCENARIO_DIR / f"{name}.yaml"
    return parse_scenario(path.read_text(), str(path.name))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def seed_registry(local: LocalStack, models: int = 3) -> int:
    """A `model_versions` table (as a registry keeps) with its artifacts in the primary
    region's bucket, then replicated to the DR region."""
    stack = local.stack
    assert stack.artifacts is not None
    primary_artifacts = ObjectStore(stack.repository.store.client, "ml-artifacts",
                                    "us-east-1/ml-artifacts")
    with pg.connect(stack.primary.endpoint.dsn) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS model_versions (name text, version int, "
                     "artifact_key text PRIMARY KEY, sha256 text NOT NULL)")
        for index in range(1, models + 1):
            blob = hashlib.sha256(f"weights-{index}".encode()).digest() * 2048
            key = f"models/churn/{index}/model.bin"
            primary_artifacts.put(key, blob)
            conn.execute("INSERT INTO model_versions VALUES (%s, %s, %s, %s) ON CONFLICT DO "
                         "NOTHING", ("churn", index, key, hashlib.sha256(blob).hexdigest()))
    replicate(primary_artifacts, stack.artifacts)
    return models


def run_demo(scenarios: list[str], out_dir: Path, playbooks: Path | None,
             echo: Callable[[str], None], mode: str = "sync") -> list[DrillResult]:
    echo("starting primary, standby and two moto regions ...")
    local = build_local_stack(mode=mode)
    results: list[DrillResult] = []
    try:
        seeded = seed_registry(local)
        echo(f"seeded {seeded} model versions; artifacts replicated to us-west-2")
        writer = MarkerWriter(local.stack.primary.endpoint.dsn)
        writer.ensure_table()
        state = DrillState(local.stack, writer,
                           DrillResult("initial-backup", datetime.now(UTC), 1, 0))
        echo(step_backup(state, {}))
        for name in scenarios:
            echo(f"drill {name} ...")
            results.append(run_drill(local.stack, builtin_scenario(name)))
    finally:
        local.close()
    markdown = results_markdown(results)
    atomic_write_text(out_dir / "drill-results.md", markdown)
    atomic_write_json(out_dir / "drill-results.json", [r.as_dict() for r in results])
    if playbooks is not None:
        update_playbooks(playbooks, results)
    return results
