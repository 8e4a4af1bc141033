"""`template`: an Excel sheet for ops to fill in, with its Instructions sheet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from batch_scheduler.cli.console import say_error
from batch_scheduler.cli.session import guard, plain_settings
from batch_scheduler.i18n import _


@click.command()
@click.argument("out", metavar="OUT.xlsx", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["book", "cancel", "allocate"]), default="book",
              show_default=True, help="The sheet to make: appointments to book, appointments "
              "to cancel, or claimants and slots to allocate.")  # fmt: skip
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="A TOML config file: its departments become a dropdown.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace OUT.xlsx if it already exists.")
def template(out: Path, kind: str, config_path: Path | None, force: bool) -> None:
    """Write an Excel template for ops to fill in (with an Instructions sheet).

    Exit 2 when OUT.xlsx already exists (give --force to replace it).
    """
    from batch_scheduler.output import write_template

    if out.exists() and not force:
        say_error(_("{path} already exists. Give --force to replace it, or choose another file "
                    "name.").format(path=out))  # fmt: skip
        sys.exit(2)
    settings = plain_settings({"config_path": config_path}, need_api=False)
    guard(lambda: write_template(out, kind, settings.intake))
    wrote = {
        "book": _("Wrote the book template to {path}"),
        "cancel": _("Wrote the cancel template to {path}"),
        "allocate": _("Wrote the allocate template to {path}"),
    }
    click.echo(wrote[kind].format(path=out))
