"""Click's own words: each one we translate is Click's, character for character (an upgrade
that rewords one fails here, not silently in English), and Click looks them up in ours."""

from __future__ import annotations

import importlib
import inspect

import pytest

from batch_scheduler import i18n
from batch_scheduler.i18n import click_words


def click_source() -> str:
    return "".join(
        inspect.getsource(importlib.import_module(name)) for name in click_words.CLICK_MODULES
    )


@pytest.mark.parametrize("word", [*click_words.WORDS, *click_words.plural_words(1),
                                  *click_words.plural_words(2)])  # fmt: skip
def test_each_word_is_one_click_says(word: str) -> None:
    written = word.replace("\n", "\\n").replace("\t", "\\t")  # as the source spells it
    assert f'"{written}"' in click_source(), word


def test_click_says_them_in_the_language_in_force() -> None:
    import click.formatting

    click_words.install()
    with i18n.use_language("cy"):
        assert click.formatting._("Usage:") == "Defnydd:"
    assert click.formatting._("Usage:") == "Usage:"
