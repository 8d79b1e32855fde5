"""`make run`: the whole lifecycle of AWS dev against a local moto server, then clean up.

moto stands in for AWS (same APIs, loopback, test keys); terraform and the AWS provider are
real. The budget is left out (`enable_budget=false`): moto's Budgets API hangs the provider.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.services import start_moto_server
from aiinfra_shared.procs.terraform import moto_env

from cloudml.config import Settings
from cloudml.errors import UnavailableError
from cloudml.layout import Target
from cloudml.operations import Platform
from cloudml.plan_summary import render

MOTO_VARIABLES = {"enable_budget": "false"}


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (terraform and boto3 read them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update({k: v for k, v in values.items() if v})
    for name in [k for k, v in values.items() if not v]:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_demo(settings: Settings, echo: Callable[[str], None]) -> None:
    target = Target("aws", "dev")
    with tempfile.TemporaryDirectory(prefix="cloudml-demo-") as work:
        try:
            moto = start_moto_server(Path(work))
        except MissingBinaryError as exc:
            raise UnavailableError(f"the demo needs moto: {exc}") from exc
        try:
            demo_settings = settings.model_copy(update={"work_dir": Path(work) / "state"})
            platform = Platform(demo_settings)
            with environment(moto_env(moto.endpoint_url)):
                echo(f"moto (AWS emulator) at {moto.endpoint_url}")
                boot = platform.bootstrap()
                echo(f"1. state bucket {boot.bucket}: versioning={boot.versioning}, "
                     f"encryption={boot.encryption}")
                planned = platform.plan(target, MOTO_VARIABLES)
                echo("2. plan")
                for line in render(planned.summary, target.label):
                    echo("   " + line)
                echo(f"3. monthly cost {planned.cost.total:,.2f} {planned.cost.currency} "
                     f"(prices as of {planned.cost.as_of})")
                for cost_line in sorted(planned.cost.lines, key=lambda item: -item.monthly):
                    echo(f"   {cost_line.monthly:>9,.2f}  {cost_line.address}")
                applied = platform.apply(target)
                echo(f"4. applied in {applied.seconds:.1f}s")
                echo("5. outputs")
                for name, value in platform.outputs(target).items():
                    echo(f"   {name} = {value}")
                report = platform.drift(target)
                drifted = [d.address for d in report.drifted]
                echo(f"6. drift check: {', '.join(drifted) if drifted else 'none'}")
                versions = platform.versions(target)
                echo(f"7. state versions kept: {len(versions)}")
                _, gone = platform.destroy(target, MOTO_VARIABLES)
                echo(f"8. destroyed in {gone.seconds:.1f}s")
        finally:
            moto.stop()
