"""`regman demo` / `make run`: the whole workflow on two throwaway local registries.

Starts two CNCF distribution registries (Debian `docker-registry`) on loopback, pushes a few
sample images that share base layers (old and new builds, a prod tag, a multi-arch index),
signs two of them, replicates `apps/*` to the second registry, applies a retention policy on
the first, runs garbage collection, and prints what happened at each step.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from regman.adapters.registry import RegistryClient
from regman.errors import RegistryUnavailableError
from regman.images import (
    build_image,
    build_index,
    build_layer,
    push_image,
    push_index,
    random_layer,
)
from regman.inventory import collect_inventory
from regman.reference import Reference
from regman.replication import ReplicationRule, run_rule
from regman.retention import RetentionPolicy, RetentionRule, apply_plan, plan
from regman.signing import (
    PolicyRule,
    SignatureVerifier,
    SigningPolicy,
    generate_key_pair,
    load_private_key,
    load_public_key,
    sign_image,
    verify_image,
)

DEMO_PASSWORD = "demo-only-password"  # noqa: S105 - throwaway key of the demo


def seed_registry(client: RegistryClient, now: datetime) -> dict[str, str]:
    """Push the sample images; returns tag -> digest for apps/api."""
    base = random_layer(256 * 1024, "base-os")
    runtime = random_layer(128 * 1024, "python-runtime")
    digests = {}
    for i in range(1, 7):
        app = build_layer({"app/main.py": f"print('api version {i}')\n".encode() * 50})
        created = now - timedelta(days=40 - 6 * i)
        image = build_image([base, runtime, app], created=created,
                            labels={"org.opencontainers.image.version": f"1.{i}.0"})
        digests[f"1.{i}.0"] = push_image(client, "apps/api", f"1.{i}.0", image)
    digests["prod-2024"] = push_image(client, "apps/api", "prod-2024", build_image(
        [base, runtime, build_layer({"app/main.py": b"print('prod')\n"})],
        created=now - timedelta(days=90)))
    digests["dev-nightly"] = push_image(client, "apps/api", "dev-nightly", build_image(
        [base, build_layer({"app/main.py": b"print('nightly')\n"})],
        created=now - timedelta(days=60)))
    arm = build_image([base, build_layer({"bin/tool": b"arm64"})], architecture="arm64",
                      created=now - timedelta(days=1))
    amd = build_image([base, build_layer({"bin/tool": b"amd64"})], created=now - timedelta(days=1))
    push_index(client, "apps/tool", "2.0", build_index([(amd, "linux", "amd64"),
                                                       (arm, "linux", "arm64")]))
    return digests


def run_demo(workdir: Path, console: Console) -> None:
    try:
        from aiinfra_shared.procs.binaries import MissingBinaryError
        from aiinfra_shared.procs.services import start_oci_registry
    except ImportError as exc:  # pragma: no cover - shared is a declared dependency
        raise RegistryUnavailableError(f"demo needs aiinfra-shared: {exc}") from exc
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        primary = start_oci_registry(workdir / "primary")
        mirror = start_oci_registry(workdir / "mirror")
    except MissingBinaryError as exc:
        raise RegistryUnavailableError(f"{exc}; the demo runs real registries") from exc
    try:
        _demo(primary, mirror, workdir, console)
    finally:
        mirror.stop()
        primary.stop()


def _demo(primary: object, mirror: object, workdir: Path, console: Console) -> None:
    now = datetime.now(UTC)
    src = RegistryClient(primary.url)  # type: ignore[attr-defined]
    dst = RegistryClient(mirror.url)  # type: ignore[attr-defined]
    console.rule("1. seed")
    digests = seed_registry(src, now)
    console.print(f"pushed apps/api tags {sorted(digests)} and index apps/tool:2.0")
    console.print(f"primary {src.base_url}: {src.catalog()} tags "
                  f"{len(src.tags('apps/api'))} in apps/api")

    console.rule("2. sign")
    private_pem, public_pem = generate_key_pair(DEMO_PASSWORD)
    (workdir / "cosign.key").write_bytes(private_pem)
    (workdir / "cosign.pub").write_bytes(public_pem)
    key = load_private_key(workdir / "cosign.key", DEMO_PASSWORD)
    for tag in ("1.6.0", "1.2.0"):
        signed = sign_image(src, Reference(src.host, "apps/api", tag), key)
        console.print(f"signed apps/api:{tag} -> :{signed['signature_tag']}")
    verified = verify_image(src, Reference(src.host, "apps/api", "1.6.0"),
                            {"cosign.pub": load_public_key(workdir / "cosign.pub")})
    console.print(f"verified apps/api:1.6.0 with {verified['verified_keys']}")

    console.rule("3. replicate apps/* -> mirror")
    rule = ReplicationRule(name="apps-to-mirror", source="primary", destination="mirror",
                           repositories="apps/*", tags=r"\d+\.\d+\.\d+|prod-.*|2\.0")
    first = run_rule(src, dst, rule)
    second = run_rule(src, dst, rule)
    console.print(f"first run: {first.copied} image(s), {first.signatures_copied} signature(s),"
                  f" {first.bytes_uploaded} bytes, {len(first.failures)} failure(s)")
    console.print(f"second run: {second.copied} copied, {second.up_to_date} up to date, "
                  f"{second.bytes_uploaded} bytes moved (incremental)")

    console.rule("4. retention on primary")
    policy = RetentionPolicy(grace_period_hours=24, keep_signed=True, rules=[
        RetentionRule(repositories="apps/*", keep_last=2, keep_tags=[r"latest"],
                      protect=["prod-*"], untagged_older_than_days=7)])
    signing = SigningPolicy([PolicyRule("apps/*", (workdir / "cosign.pub",), ("cosign.pub",))])
    inventories = collect_inventory(src, ["apps/*"], verifier=SignatureVerifier(signing))
    result = plan(inventories, policy, now)
    table = Table(title="retention plan (apps/*)")
    for column in ("action", "repository", "tags", "rule", "reason"):
        table.add_column(column)
    for decision in result.decisions:
        if decision.kind != "signature" or decision.action == "delete":
            table.add_row(decision.action, decision.repository,
                          ",".join(decision.tags) or "<untagged>", decision.rule,
                          decision.reason)
    console.print(table)
    before = primary.disk_usage()  # type: ignore[attr-defined]
    outcome = apply_plan(src, result)
    primary.garbage_collect()  # type: ignore[attr-defined]
    after = primary.disk_usage()  # type: ignore[attr-defined]
    console.print(f"deleted {len(outcome.deleted)} manifest(s); garbage collection freed "
                  f"{before - after} bytes ({before} -> {after})")
    remaining = src.tags("apps/api")
    console.print(f"apps/api tags now: {sorted(t for t in remaining if not t.endswith('.sig'))}")
    src.close()
    dst.close()
    console.rule("done")
