"""Translations: every string a person reads goes through `gettext` (`_`) or `ngettext`.

Two languages, English (the source text) and Welsh (`locales/cy/LC_MESSAGES/messages.po`,
read at run time: catalogue.py says why). Which one is in force:

- the process default, set once by the command line (`--lang`, BATCH_SCHEDULER_LANG,
  config `lang`, else the locale: `resolve_language`) with `set_default_language`; English
  until then, so library code and tests never depend on the machine's locale;
- overridden per context with `use_language` (a context manager over a ContextVar): the
  web page renders each request in its user's language while a job runs in another thread.

Look a message up once and format it after: `_("Row %(row)d is empty") % {"row": n}`, never
per cell of a sheet. Each message is looked up in a language's catalogue once per process
and remembered (`gettext`, `ngettext`, `pgettext`), so a message made for every bad cell of
a sheet (an issue, a reason) costs one catalogue lookup, not one per cell. `lazy_gettext`
is for strings defined at import time (module constants), translated when they are shown,
in the language in force then. `N_` only marks a message for extraction (stored in English,
translated when shown).
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from batch_scheduler.i18n.catalogue import translations

LANGUAGES = {"en": "English", "cy": "Cymraeg"}  # code -> the language's own name
DEFAULT_LANGUAGE = "en"
ENV_VAR = "BATCH_SCHEDULER_LANG"
# where the locale names the language of messages, first found wins (as Python's gettext)
LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_default = DEFAULT_LANGUAGE
_current: ContextVar[str | None] = ContextVar("batch_scheduler_language", default=None)


class UnknownLanguage(ValueError):
    """A language asked for by name (flag, variable, config) that we do not have."""


def language_code(text: str) -> str | None:
    """ "cy", "CY", "cy_GB.UTF-8", "cy-GB" -> "cy"; None when it is not a language we have."""
    code = text.strip().replace("-", "_").split("_")[0].split(".")[0].split("@")[0].lower()
    return code if code in LANGUAGES else None


def resolve_language(
    flag: str | None = None,
    config: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The language of a run: `--lang`, else BATCH_SCHEDULER_LANG, else config `lang`, else
    the locale (Welsh when it starts with "cy"), else English. A language asked for by name
    that we do not have is an error; a locale we do not have is English."""
    environ = os.environ if environ is None else environ
    asked = (("--lang", flag), (ENV_VAR, environ.get(ENV_VAR)), ("lang", config))
    for where, value in asked:
        if value and value.strip():
            code = language_code(value)
            if code is None:
                raise UnknownLanguage(
                    gettext('%(where)s is "%(value)s": use cy (Cymraeg) or en (English).')
                    % {"where": where, "value": value}
                )
            return code
    for name in LOCALE_VARS:
        value = environ.get(name, "").split(":")[0]
        if value:
            return "cy" if value.lower().startswith("cy") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _known(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def set_default_language(language: str) -> None:
    """The language of this process wherever no context chose one (threads included)."""
    global _default
    _default = _known(language)


def set_language(language: str) -> None:
    """Use `language` from now on in this context (unknown codes: English)."""
    _current.set(_known(language))


@contextmanager
def use_language(language: str) -> Iterator[str]:
    """Use `language` inside the block, in this context only (a request, a thread)."""
    token = _current.set(_known(language))
    try:
        yield _known(language)
    finally:
        _current.reset(token)


def current_language() -> str:
    return _current.get() or _default


def translations_for(language: str) -> _gettext.NullTranslations:
    """The catalogue of `language` (English: the source text itself)."""
    return translations(_known(language))


def gettext(message: str) -> str:
    return _looked_up(current_language(), None, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _plural_looked_up(current_language(), singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """For a word whose translation depends on where it stands ("Book" the verb)."""
    return _looked_up(current_language(), context, message)


_REMEMBERED = 8192  # messages (and counts) remembered per process: ours are a few hundred


@lru_cache(maxsize=_REMEMBERED)
def _looked_up(language: str, context: str | None, message: str) -> str:
    """A message in `language`, looked up in its catalogue once and remembered after."""
    catalogue = translations_for(language)
    if context is None:
        return catalogue.gettext(message)
    return catalogue.pgettext(context, message)


@lru_cache(maxsize=_REMEMBERED)
def _plural_looked_up(language: str, singular: str, plural: str, n: int) -> str:
    return translations_for(language).ngettext(singular, plural, n)


def forget_lookups() -> None:
    """Forget the messages remembered, so the next use of each looks it up again (for the
    tests that count catalogue lookups)."""
    _looked_up.cache_clear()
    _plural_looked_up.cache_clear()


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it (translated when shown)."""
    return message


_ = gettext


class LazyString:
    """A message translated each time it is turned into text."""

    __slots__ = ("_message",)

    def __init__(self, message: str) -> None:
        self._message = message

    def __str__(self) -> str:
        return gettext(self._message)

    def __repr__(self) -> str:
        return f"LazyString({self._message!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._message)


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


__all__ = [
    "DEFAULT_LANGUAGE",
    "ENV_VAR",
    "LANGUAGES",
    "N_",
    "LazyString",
    "UnknownLanguage",
    "_",
    "current_language",
    "forget_lookups",
    "gettext",
    "language_code",
    "lazy_gettext",
    "ngettext",
    "pgettext",
    "resolve_language",
    "set_default_language",
    "set_language",
    "translations_for",
    "use_language",
]
