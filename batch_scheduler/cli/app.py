"""The `batch-scheduler` command group: every command, gathered from the modules beside it."""

from __future__ import annotations

import click

from batch_scheduler import __version__
from batch_scheduler.cli.allocate import allocate
from batch_scheduler.cli.demo import demo
from batch_scheduler.cli.language import LocalisedGroup, lang_option, walk
from batch_scheduler.cli.ledger import ledger_command
from batch_scheduler.cli.runs import book, cancel, validate
from batch_scheduler.cli.template import template
from batch_scheduler.sandbox.command import sandbox_command
from batch_scheduler.web.commands import serve_command, users_command


@click.group(cls=LocalisedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batch-scheduler")
def cli() -> None:
    """Book and cancel SQOD video appointments in bulk from spreadsheets, exactly once."""


for _command in (validate, book, cancel, template, demo, allocate):
    cli.add_command(_command)
cli.add_command(ledger_command, name="ledger")
cli.add_command(sandbox_command, name="sandbox")
cli.add_command(serve_command, name="serve")
cli.add_command(users_command, name="users")
for _command, _ in walk(cli, "batch-scheduler"):  # every command speaks either language
    _command.params.append(lang_option())


def main() -> None:
    cli()
