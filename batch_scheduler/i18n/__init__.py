"""Translations: every string a person reads goes through `gettext` (`_`) or `ngettext`.

English only for now: the active catalogue is `gettext.NullTranslations`, which returns the
English text it is given. Issue 15 (Welsh) replaces `translations_for` with real compiled
catalogues; callers do not change. `lazy_gettext` is for strings defined at import time
(module constants), translated when they are shown, in the language in force then.
"""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar

LANGUAGES = {"en": "English"}  # code -> the language's own name; "cy": "Cymraeg" comes next
DEFAULT_LANGUAGE = "en"

_current: ContextVar[str] = ContextVar("batch_scheduler_language", default=DEFAULT_LANGUAGE)


def translations_for(language: str) -> _gettext.NullTranslations:
    """The catalogue of `language` (today: English, the source text, for every language)."""
    return _gettext.NullTranslations()


def set_language(language: str) -> None:
    """Use `language` for the strings translated from now on in this context (a request)."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations_for(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(_current.get()).ngettext(singular, plural, n)


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
    "LANGUAGES",
    "LazyString",
    "_",
    "current_language",
    "gettext",
    "lazy_gettext",
    "ngettext",
    "set_language",
    "translations_for",
]
