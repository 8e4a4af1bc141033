"""`template` on the command line, and help text for every command and option."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from openpyxl import load_workbook

from batch_scheduler.cli import cli
from tests.support.cli import invoke


def test_template_writes_a_new_file(tmp_path: Path) -> None:
    out = tmp_path / "book.xlsx"
    result = invoke({}, "template", out, "--kind", "cancel")

    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["Cancel", "Instructions"]


def test_template_does_not_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "book.xlsx"
    out.write_bytes(b"someone's filled-in sheet")

    refused = invoke({}, "template", out)

    assert refused.exit_code == 2
    assert "already exists" in refused.output and "--force" in refused.output
    assert out.read_bytes() == b"someone's filled-in sheet"

    forced = invoke({}, "template", out, "--force")

    assert forced.exit_code == 0, forced.output
    assert load_workbook(out).sheetnames == ["Book", "Instructions"]


def commands(group: click.Group) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in commands(command)]
    return found


@pytest.mark.parametrize(("name", "command"), commands(cli), ids=[n for n, _ in commands(cli)])
def test_every_command_and_option_has_help(name: str, command: click.Command) -> None:
    assert command.help, f"`{name}` has no help text"
    context = click.Context(command, info_name=name)
    for param in command.get_params(context):
        if isinstance(param, click.Option):
            assert param.help, f"`{name} {param.opts[0]}` has no help text"
    shown = invoke({}, *name.split(), "--help")
    assert shown.exit_code == 0 and "Options:" in shown.output


def test_the_group_options_have_help() -> None:
    context = click.Context(cli, info_name="batch-scheduler")
    for param in cli.get_params(context):
        if isinstance(param, click.Option):
            assert param.help, param.opts[0]
