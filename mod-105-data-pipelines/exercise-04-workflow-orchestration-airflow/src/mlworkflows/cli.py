"""Command line for mlworkflows: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import click
from aiinfra_shared.cli import AppGroup

from mlworkflows import __version__


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="mlworkflows")
def cli() -> None:
    """Workflow Orchestration Airflow."""


main = cli
