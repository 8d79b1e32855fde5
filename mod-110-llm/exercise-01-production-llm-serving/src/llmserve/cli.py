"""Command line for llmserve: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import click
from aiinfra_shared.cli import AppGroup

from llmserve import __version__


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="llmserve")
def cli() -> None:
    """Production Llm Serving."""


main = cli
