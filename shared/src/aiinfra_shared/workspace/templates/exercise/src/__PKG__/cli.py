"""Command line for __PKG__: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import click
from aiinfra_shared.cli import AppGroup

from __PKG__ import __version__


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="__PKG__")
def cli() -> None:
    """__TITLE__."""


main = cli
