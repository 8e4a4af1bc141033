"""The language of a command-line run, chosen once where the process starts, and the
commands' help in it.

Every command takes `--lang cy|en` (and so does the group: `batch-scheduler --lang cy
book ...`). The language is `--lang` (the command's, else the group's), else
BATCH_SCHEDULER_LANG, else `lang` in the config file the command is given, else the
locale (i18n.resolve_language). It must be known before Click prints anything (`--help`,
a usage error), so `LocalisedGroup.main` reads the options first the way shell completion
does (Click's own parser, resilient: no callbacks, no prompts, no errors), sets the
process's language once (`i18n.set_default_language`), puts every help text in it, and
only then lets Click run the command.

Help texts are written in English in the code (Click's `help=` and docstrings) and found
for the catalogue by walking this tree (i18n/maintain.py: `cli_messages`), so none can be
missed; here each is swapped for its translation before Click reads it, from the English
kept the first time (a test process runs many commands, in both languages).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from batch_scheduler import i18n
from batch_scheduler.cli.console import say_error
from batch_scheduler.config import configured_language
from batch_scheduler.errors import ConfigError
from batch_scheduler.i18n import click_words

LANG_HELP = "The language of messages, help and workbooks: cy (Cymraeg) or en (English)."
click_words.install()


_ASKED = "batch_scheduler.lang"  # where --lang leaves its value (ctx.meta: the whole line's)


def lang_option() -> click.Option:
    """`--lang`, for every command: the value is read before the command runs, so no command
    function takes it."""
    return click.Option(
        ["--lang"],
        type=click.Choice(sorted(i18n.LANGUAGES)),
        expose_value=False,
        callback=_remember_lang,
        help=LANG_HELP,
    )


def _remember_lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:  # a command's --lang wins over the group's, given before it
        ctx.meta[_ASKED] = value


class LocalisedGroup(click.Group):
    """The `batch-scheduler` group: chooses the language, then runs the command in it."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             *rest: Any, **extra: Any) -> Any:  # fmt: skip
        argv = list(sys.argv[1:] if args is None else args)
        name = prog_name or "batch-scheduler"
        i18n.set_default_language(i18n.DEFAULT_LANGUAGE)  # the help is remembered in English
        for command, ctx in walk(self, name):
            remember_english(command, ctx)
        try:
            language = choose_language(self, argv, name)
        except i18n.UnknownLanguage as exc:  # BATCH_SCHEDULER_LANG or config lang
            say_error(str(exc))
            sys.exit(ConfigError.exit_code)
        i18n.set_default_language(language)
        for command, ctx in walk(self, name):
            translate_help(command, ctx)
        try:
            return super().main(argv, prog_name, *rest, **extra)
        finally:  # a caller in the same process (a test) gets its language back
            i18n.set_default_language(i18n.DEFAULT_LANGUAGE)


# ---------------------------------------------------------------- which language


def choose_language(group: click.Group, args: list[str], prog_name: str) -> str:
    """The run's language from what the command line asks (see the module docstring)."""
    flag, config = None, None
    try:
        for ctx in _parsed(group, args, prog_name):
            flag = ctx.meta.get(_ASKED) or flag
            config = ctx.params.get("config_path") or config
    except (click.ClickException, click.exceptions.Exit):
        pass  # Click says what is wrong once the language is known
    return i18n.resolve_language(flag, _config_language(config))


def _parsed(group: click.Group, args: list[str], prog_name: str) -> Iterator[click.Context]:
    """The group's context and each command's on the line, as Click parses them."""
    with group.make_context(prog_name, list(args), resilient_parsing=True) as ctx:
        yield ctx
        rest = [*ctx._protected_args, *ctx.args]
        command: click.Command = group
        while rest and isinstance(command, click.Group):
            name, found, rest = command.resolve_command(ctx, rest)
            if found is None or name is None:
                return
            ctx = found.make_context(name, rest, parent=ctx, resilient_parsing=True)
            yield ctx
            command, rest = found, [*ctx._protected_args, *ctx.args]


def _config_language(path: Path | None) -> str | None:
    """`lang` in the config file, if it can be read (if not, the command says why later)."""
    if path is None:
        return None
    try:
        return configured_language(Path(path))
    except ConfigError:
        return None


# ---------------------------------------------------------------- help in that language

_ENGLISH: dict[object, str | None] = {}  # command or option -> its help as written


def walk(group: click.Group, name: str) -> Iterator[tuple[click.Command, click.Context]]:
    """The group and every command under it, each with a context of its own (made as Click
    makes them: the group's settings, such as -h for --help, reach every command)."""
    yield from _walk(group, click.Context(group, info_name=name, **group.context_settings))


def _walk(command: click.Command, ctx: click.Context) -> Iterator[tuple[click.Command, Any]]:
    yield command, ctx
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, click.Context(sub, info_name=name, parent=ctx))


def _helped(command: click.Command, ctx: click.Context) -> list[Any]:
    """The command and its parameters that have a help text (the help option's too)."""
    return [item for item in (command, *command.get_params(ctx)) if hasattr(item, "help")]


def help_texts(command: click.Command, ctx: click.Context) -> Iterator[tuple[Any, str]]:
    """The command's help and its options', as written."""
    for item in _helped(command, ctx):
        text = _ENGLISH.get(item, item.help)
        if text:
            yield item, inspect.cleandoc(text)


def remember_english(command: click.Command, ctx: click.Context) -> None:
    for item in _helped(command, ctx):
        _ENGLISH.setdefault(item, item.help)


def translate_help(command: click.Command, ctx: click.Context) -> None:
    for item, english in help_texts(command, ctx):
        item.help = i18n.gettext(english)
