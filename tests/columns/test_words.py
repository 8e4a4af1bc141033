"""The words people read for the stable names: one per name, in each language, and the Welsh
ones exactly those the reader takes back (welsh_input.py), so a workbook written in Welsh is
read in either mode."""

from __future__ import annotations

import re

import pytest

from batch_scheduler import i18n
from batch_scheduler.columns import RESULT_COLUMNS, SOURCE_ROW, fold_label
from batch_scheduler.columns.words import (
    answer_words,
    column_headers,
    defined_name,
    outcome_from_word,
    outcome_words,
    sheet_titles,
    summary_label,
    summary_labels,
)
from batch_scheduler.i18n.welsh_input import DROPDOWNS, RESULT_HEADERS, SHEET_NAMES
from batch_scheduler.models import Outcome
from batch_scheduler.validate.checks import choice_words


def welsh(lookup):  # type: ignore[no-untyped-def]
    with i18n.use_language("cy"):
        return lookup()


def test_english_shows_the_stable_names_themselves() -> None:
    assert {o.value: w for o, w in outcome_words().items()} == {o.value: o.value for o in Outcome}
    assert all(name == header for name, header in column_headers().items())
    assert all(key == label for key, label in summary_labels().items())


def test_the_welsh_words_are_the_ones_the_reader_takes_back() -> None:
    titles = welsh(sheet_titles)
    for english, welsh_names in SHEET_NAMES.items():
        assert titles[english] == welsh_names[0]
    headers = welsh(column_headers)
    assert {c: headers[c] for c in (SOURCE_ROW, *RESULT_COLUMNS, "host_url")} == RESULT_HEADERS
    assert welsh(answer_words) == tuple(DROPDOWNS["boolean"])
    bandwidths = welsh(choice_words)
    assert {w: bandwidths[e] for w, e in DROPDOWNS["bandwidth"].items()} == {
        w: w for w in DROPDOWNS["bandwidth"]
    }


@pytest.mark.parametrize("language", ["en", "cy"])
def test_every_outcome_word_reads_back_as_its_outcome_in_either_mode(language: str) -> None:
    words = welsh(outcome_words)
    assert len({fold_label(w) for w in words.values()}) == len(Outcome)  # no two fold alike
    with i18n.use_language(language):
        for outcome, word in words.items():
            assert outcome_from_word(word) is outcome
            assert outcome_from_word(f"  {word.upper()} ") is outcome
            assert outcome_from_word(outcome.value) is outcome
    assert outcome_from_word("something else") is None and outcome_from_word(None) is None


def test_a_summary_key_with_a_code_keeps_it() -> None:
    with i18n.use_language("cy"):
        assert summary_label("unplaced: no-language-slot") == "Heb le: no-language-slot"
        assert summary_label("made_up") == "made_up"


def test_defined_names_are_names_every_spreadsheet_keeps() -> None:
    for stable in (*RESULT_COLUMNS, "unplaced: no-language-slot", "input_sha256"):
        name = defined_name(stable)
        assert re.fullmatch(r"bs_[A-Za-z0-9_]+", name), name
        assert not re.fullmatch(r"bs_[A-Za-z]{1,3}\d+", name)  # never like a cell reference
    assert defined_name("unplaced: no-language-slot") == "bs_unplaced_no_language_slot"
