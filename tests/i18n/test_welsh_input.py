"""Welsh headers, answers and dropdown values: every field has its Welsh header, and folding
(columns.fold_label, as the reader matches headers) keeps each Welsh spelling apart from every
English one and from the other fields' Welsh ones; the reader's own index (alias_index, over
the fields as wired) finds each Welsh spelling's field."""

from __future__ import annotations

from collections import defaultdict

import pytest

from batch_scheduler.columns import HOST_COLUMN, RESULT_COLUMNS, SOURCE_ROW, fields_for, fold_label
from batch_scheduler.i18n import welsh_input
from batch_scheduler.i18n.welsh_input import (
    HEADERS,
    RESULT_HEADERS,
    spellings,
    welsh_answer,
    without_accents,
)
from batch_scheduler.intake.headers import alias_index
from batch_scheduler.models import SheetKind
from batch_scheduler.validate.book import BANDWIDTHS
from batch_scheduler.validate.values import FALSE_WORDS, TRUE_WORDS

KINDS = tuple(SheetKind)


def english_spellings() -> dict[str, set[tuple[str, str]]]:
    """Folded English spelling -> the (kind, field) pairs it names, over every kind."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for kind in KINDS:
        for f in fields_for(kind):
            for spelling in (f.name, f.header, *f.aliases):
                found[fold_label(spelling)].add((kind, f.name))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_has_a_welsh_header(kind: str) -> None:
    assert list(HEADERS[kind]) == [f.name for f in fields_for(kind)]


@pytest.mark.parametrize("kind", KINDS)
def test_welsh_spellings_fold_apart_from_each_other_and_from_every_english_one(
    kind: str,
) -> None:
    english = english_spellings()
    seen: dict[str, str] = {}
    for name, written in spellings(kind).items():
        for spelling in written:
            folded = fold_label(spelling)
            assert folded, spelling
            assert folded not in english, f"{spelling!r} folds like English {english[folded]}"
            assert seen.setdefault(folded, name) == name, (
                f"{spelling!r} ({name}) folds like a header of {seen[folded]}"
            )


@pytest.mark.parametrize("kind", KINDS)
def test_the_reader_matches_every_welsh_spelling_to_its_field(kind: str) -> None:
    """The wiring: the fields carry their Welsh headers, and the reader's index (English and
    Welsh together) sends each spelling, with or without its accents, to its own field."""
    index = alias_index(fields_for(kind))
    for f in fields_for(kind):
        assert f.welsh == (HEADERS[kind][f.name].header, *HEADERS[kind][f.name].aliases)
    for name, written in spellings(kind).items():
        for spelling in written:
            assert index[fold_label(spelling)] == name, spelling
    for f in fields_for(kind):  # and the English ones are not disturbed
        for spelling in (f.name, f.header, *f.aliases):
            assert index[fold_label(spelling)] == f.name, spelling


def test_the_issue_s_headers_name_the_right_fields() -> None:
    book = {fold_label(s): n for n, ss in spellings("book").items() for s in ss}
    expected = {
        "Cyfeirnod": "reference",
        "Enw": "claimant_name",
        "Enw'r hawlydd": "claimant_name",
        "Enw’r Hawlydd": "claimant_name",  # a typographic apostrophe, another case
        "Dyddiad geni": "claimant_date_of_birth",
        "Ffôn": "claimant_phone_number",
        "Ffon": "claimant_phone_number",
        "Ffôn symudol": "claimant_phone_number",
        "Ffon symudol": "claimant_phone_number",
        "E-bost": "claimant_email",
        "Ebost": "claimant_email",
        "Apwyntiad": "appointment_at",
        "Dyddiad yr apwyntiad": "appointment_date",
        "Amser yr apwyntiad": "appointment_time",
        "Hyd (munudau)": "duration_in_minutes",
        "Hyd": "duration_in_minutes",
        "Angen cyfieithydd?": "is_interpreter_needed",
        "Iaith": "interpreter_language",
        "Adran": "department",
        "Tim": "department",
        "Ailgyfeirio ar ol yr alwad?": "use_custom_post_call_redirect",
    }
    assert {h: book.get(fold_label(h)) for h in expected} == expected
    cancel = {fold_label(s): n for n, ss in spellings("cancel").items() for s in ss}
    assert cancel[fold_label("Rheswm canslo")] == "cancellation_reason"
    assert cancel[fold_label("Apwyntiad")] == "appointment_id"  # as English "Appointment"
    slots = {fold_label(s): n for n, ss in spellings("slots").items() for s in ss}
    assert slots[fold_label("Capasiti")] == "capacity"
    assert slots[fold_label("Dechrau")] == "appointment_at"


def test_result_headers_cover_our_columns_and_fold_apart() -> None:
    assert set(RESULT_HEADERS) == {SOURCE_ROW, *RESULT_COLUMNS, HOST_COLUMN}
    folded = [fold_label(h) for h in RESULT_HEADERS.values()]
    assert len(set(folded)) == len(folded)
    assert not set(folded) & {fold_label(c) for c in RESULT_HEADERS}


def test_without_accents() -> None:
    assert without_accents("Ffôn") == "Ffon"
    assert without_accents("Ystafelloedd grŵp") == "Ystafelloedd grwp"
    assert without_accents("Dim ar ôl") == "Dim ar ol"
    assert without_accents("Tŷ") == "Ty"


YES = ["Ie", "Oes", "Ydy", "Ydw", "Do", "Gwir", "Ydyn", "Oedd"]
NO = ["Na", "Nac oes", "Nac ydy", "Nac ydw", "Naddo", "Anwir", "Nac ydyn", "Nac oedd"]


@pytest.mark.parametrize(("yes", "no"), list(zip(YES, NO, strict=True)))
def test_welsh_yes_and_no_in_any_case(yes: str, no: str) -> None:
    for written in (yes, yes.upper(), yes.lower(), f"  {yes} "):
        assert welsh_answer(written) is True, written
    for written in (no, no.upper(), no.lower(), f" {no} ", no.replace(" ", "  ")):
        assert welsh_answer(written) is False, written


@pytest.mark.parametrize(
    ("written", "answer"),
    [
        ("Nag oes", False),  # the spelling of "Nac" many people use
        ("NAG YDY", False),
        ("Ydi", True),  # the northern form of ydy
        ("Ia", True),
        ("Gau", False),  # FALSE in Welsh Excel
        ("GWIR", True),
        ("Nâ", False),  # a circumflex where none is written: still the same answer
        ("Ŷdy", True),
        ("Efallai", None),  # perhaps: not an answer we can book on
        ("Nac", None),
        ("", None),
    ],
)
def test_other_welsh_answers(written: str, answer: bool | None) -> None:
    assert welsh_answer(written) is answer


def test_welsh_answers_never_mean_the_opposite_in_english() -> None:
    english_no, english_yes = set(FALSE_WORDS), set(TRUE_WORDS)
    assert not set(welsh_input.YES_ANSWERS) & english_no
    assert not set(welsh_input.NO_ANSWERS) & english_yes
    assert not set(welsh_input.YES_ANSWERS) & set(welsh_input.NO_ANSWERS)
    assert all(w == welsh_input.fold_answer(w) for w in welsh_input.ANSWERS)


def test_the_welsh_dropdowns_stand_for_the_english_values() -> None:
    booleans = welsh_input.DROPDOWNS["boolean"]
    assert {word: welsh_answer(word) for word in booleans} == booleans
    assert sorted(welsh_input.BANDWIDTHS.values()) == sorted(BANDWIDTHS)
    assert welsh_input.BANDWIDTHS == {"isel": "low", "canolig": "medium", "uchel": "high"}
