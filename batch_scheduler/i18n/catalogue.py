"""The message catalogues: the `.po` files in the repository, read once at run time.

Why read the `.po` and not a compiled `.mo`: the `.po` is the one file translators edit and
git keeps, so there is nothing generated to forget to rebuild, commit or ship (an editable
install, a wheel and a checkout all read the same file). Babel parses it and compiles it in
memory the first time a language is used, once per process (tens of milliseconds for the
whole catalogue); English needs no catalogue at all, since the messages are written in it.
Untranslated and fuzzy entries fall back to the English text (the tests refuse both).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the language the messages are written in


def template_path() -> Path:
    """The `.pot`: every message of the code, as extracted (`make i18n`)."""
    return LOCALES / f"{DOMAIN}.pot"


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language`, built once per process; English is the source text."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # only a process that speaks Welsh pays
    from babel.messages.pofile import read_po

    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
