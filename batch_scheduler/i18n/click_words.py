"""Click's own words ("Usage:", "Options:", "Show this message and exit.", its error
messages) in the language in force.

Click looks its words up with the standard `gettext` module, in the process-wide default
domain, which would need compiled `.mo` files on disk and the locale's environment
variables. Instead `install()` points the `_` and `ngettext` each of Click's modules
imported at our own lookups, and the words below are in our catalogue like any message.
The msgids are Click's, character for character (tests/i18n/test_click_words.py finds each
in Click's source, so an upgrade that rewords one is noticed). A word Click says that is
not listed here stays in English.
"""

from __future__ import annotations

import gettext as _gettext
import importlib

from batch_scheduler.i18n import N_, gettext, ngettext

# Click's modules that bind `_` (and some `ngettext`) from the gettext module at import.
CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.utils",
)

WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Aborted!"),
    N_("Missing command."),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Option {name!r} does not take a value."),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("Choose from:\n\t{choices}"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("required"),
    N_("Repeat for confirmation"),
    N_("Error: The two entered values do not match."),
    N_("Could not open file {filename!r}: {message}"),
)


def plural_words(n: int) -> tuple[str, ...]:
    """Click's words that have a plural (it looks them up with ngettext), for `n`: written
    as calls so that extraction finds each pair."""
    return (
        ngettext(
            "Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", n
        ),
        ngettext(
            "Option {name!r} requires an argument.",
            "Option {name!r} requires {nargs} arguments.",
            n,
        ),
        ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", n),
        ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", n),
    )


def install() -> None:
    """Make Click look its words up in our catalogue, in the language in force (once is
    enough: the lookups ask for the current language each time)."""
    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "_", None) in (_gettext.gettext, gettext):
            module._ = gettext  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) in (_gettext.ngettext, ngettext):
            module.ngettext = ngettext  # type: ignore[attr-defined]
