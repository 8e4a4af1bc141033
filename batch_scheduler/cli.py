"""Command-line interface: a thin translator from options to library calls and exit codes."""

from __future__ import annotations

import click

from batch_scheduler import __version__


@click.group()
@click.version_option(__version__, prog_name="batch-scheduler")
def cli() -> None:
    """Book and cancel SQOD video appointments in bulk from spreadsheets."""


def main() -> None:
    cli()
