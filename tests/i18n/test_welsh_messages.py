"""Every message a sheet's problems produce, in Welsh: each issue code's message for a sample
value, each reason and fragment built into one, the reader's refusals and the allocator's
reasons. Placeholders are filled, nothing is left in English but values, codes and names,
and each translation is looked up once per message, never once per cell."""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from batch_scheduler import i18n
from batch_scheduler.allocate.command import left_out_words
from batch_scheduler.allocate.matcher import Claimant, Reason, Slot, plan
from batch_scheduler.allocate.sheets import validate_slots
from batch_scheduler.columns import fields_for
from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.intake import read_table
from batch_scheduler.issues import (
    CODES,
    PHONE_MANGLED_CAUSES,
    make_issue,
    phone_mangled,
    unknown_column,
)
from batch_scheduler.models import Issue, SourceInfo
from batch_scheduler.validate import date_problems, validate_book
from batch_scheduler.validate.book import book_schema
from batch_scheduler.validate.checks import failure_values, rule_text
from batch_scheduler.validate.contacts import library_email, parse_email, reason_words
from batch_scheduler.validate.datetimes import explain_local_time
from batch_scheduler.validate.rules import row_list
from batch_scheduler.validate.values import unknown_department
from tests.support import hostile_files as hostile
from tests.support.sheets import BOOK_HEADERS, NOW, book_row, write_xlsx
from tests.support.welsh import english_left
from tests.validate.test_date_problems import TYPED_SHAPES

SETTINGS = IntakeSettings(departments={"Budd-daliadau": 1, "Tai": 2})
PIVOT = NOW.year + 50
LONDON = "Europe/London"


@pytest.fixture
def welsh() -> Iterator[None]:
    with i18n.use_language("cy"):
        yield


def assert_welsh(text: str, *values: object) -> None:
    """No placeholder left unfilled, and no word of our English messages left in `text` but
    in the `values` it quotes."""
    fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    assert fields == [], (fields, text)
    assert english_left(text, values) == set(), text


# ---------------------------------------------------------------- every code, a sample value


def samples() -> dict[str, tuple[dict[str, Any], tuple[object, ...]]]:
    """Each code's template values, made by the code that makes them (in the language in
    force), and the values among them that are the sheet's own (quoted as written)."""
    book = book_schema(SETTINGS, NOW)

    def why(cell: str, want: date_problems.Want) -> dict[str, Any]:
        return {"value": cell, **date_problems.explain(cell, want, PIVOT)}

    def failed(code: str, field: str, value: Any) -> dict[str, Any]:
        return {"value": str(value), **failure_values(book, code, field, value)}

    above = i18n.gettext("rows {first} to {last}").format(first=1, last=2)
    are = i18n.pgettext("rows-above-header: rows 1 to 3 ... are not read", "are")
    refused = "The claimant.email field must be a valid email address."
    header = "Enw'r hawlydd"
    return {
        "required": ({"label": header}, (header,)),
        "invalid-datetime": (why("31/02/2027 10:00", "datetime"), ()),
        "nonexistent-local-time": (explain_local_time(datetime(2027, 3, 28, 1, 30), LONDON), ()),
        "ambiguous-local-time": (explain_local_time(datetime(2027, 10, 31, 1, 30), LONDON), ()),
        "invalid-time": (why("25:00", "time"), ()),
        "in-past": ({"local": "01/01/2020 10:00", "tz": LONDON}, ()),
        "invalid-date": (why("14-02", "date"), ()),
        "dob-in-future": (
            failed("dob-in-future", "claimant_date_of_birth", pd.Timestamp("2030-03-14")),
            (),
        ),
        "invalid-integer": ({"value": "tri deg", "label": "Hyd (munudau)"}, ("Hyd (munudau)",)),
        "out-of-range": (failed("out-of-range", "duration_in_minutes", 2000), ()),
        "invalid-phone": ({"value": "1234"}, ()),
        "phone-mangled": ({"value": "2079460123", **phone_mangled("number", "020 7946 0123")}, ()),
        "invalid-email": (
            {"value": "hawlydd@", "reason": reason_words(library_email("hawlydd@")[1] or "")},
            (),
        ),
        "invalid-boolean": ({"value": "Efallai", "default": i18n.pgettext("answer", "No")}, ()),
        "not-in-list": (failed("not-in-list", "features_bandwidth", "llydan"), ()),
        "duplicate-reference": ({"value": "CYF-1", "others": row_list([4, 9])}, ()),
        "duplicate-row": ({"others": row_list([4, 9, 12, 15, 20, 31, 40])}, ()),
        "too-long": ({"label": header, "length": 300, "limit": 255}, (header,)),
        "insecure-url": ({"value": "http://example.org/diolch"}, ()),
        "invalid-url": ({"value": "gwefan"}, ()),
        "language-required": ({}, ()),
        "unknown-department": (
            {"value": "Tay", **unknown_department("Tay", SETTINGS.departments)},
            ("Budd-daliadau", "Tai"),
        ),
        "missing-id": ({}, ()),
        "invalid-appointment-id": ({"value": "abc"}, ()),
        "unknown-column": (unknown_column("Nodiadu", "Nodiadau"), ("Nodiadu", "Nodiadau")),
        "sheet-ignored": ({"sheet": "Wythnos 48"}, ("Wythnos 48",)),
        "merged-cell": ({"span": "C2:C3", "first": "C2"}, ()),
        "formula-not-calculated": ({}, ()),
        "control-characters": ({"label": header, "chars": "U+202E"}, (header,)),
        "hidden-row": ({}, ()),
        "hidden-column": ({}, ()),
        "hidden-sheet": ({"hidden": '"Cudd"', "sheet": "Apwyntiadau"}, ()),
        "quote-not-closed": ({}, ()),
        "sheet-checks-skipped": ({}, ()),
        "rows-above-header": ({"header_row": 3, "above": above, "verb": are}, ()),
        "language-not-needed": ({"value": "Cymraeg"}, ()),
        "mojibake": ({"value": "SiÃ¢n", "intended": "Siân"}, ()),
        "redirect-without-flag": ({}, ()),
        "window-reversed": ({"latest": "01/12/2026", "earliest": "05/12/2026"}, ()),
        "duplicate-claimant": ({"others": row_list([7])}, ()),
        "api-rejected": ({"details": refused}, (refused,)),  # the API's own words
        "reference-cancelled": ({"value": "CYF-1", "when": "01/12/2026", "id": "8f14e45f"}, ()),
        "reference-in-use": (  # the differences are send's words (not this step's)
            {"value": "CYF-1", "id": "8f14e45f", "differences": "Claimant name"},
            ("Claimant name",),
        ),
    }


def test_every_issue_code_has_a_sample() -> None:
    assert set(samples()) == set(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_issue_message_renders_in_welsh(code: str) -> None:
    english_values, _ = samples()[code]
    english = make_issue(code, row=2, column="C", **english_values).message
    with i18n.use_language("cy"):
        values, quoted = samples()[code]
        issue = make_issue(code, row=2, column="C", **values)
    assert issue.code == code and issue.severity is CODES[code].severity
    assert issue.message != english
    assert_welsh(issue.message, LONDON, *quoted, *(v for k, v in values.items() if k == "value"))


@pytest.mark.parametrize("code", [c for c, spec in sorted(CODES.items()) if spec.defaults])
def test_the_default_words_of_a_message_are_welsh_too(code: str, welsh: None) -> None:
    """A placeholder left out reads as the code's default: translated like the template."""
    issue = make_issue(code, value="X1")
    assert_welsh(issue.message, "X1")


@pytest.mark.parametrize("shape", sorted(PHONE_MANGLED_CAUSES))
def test_each_cause_of_a_mangled_phone_is_welsh(shape: str, welsh: None) -> None:
    for likely in ("020 7946 0123", None):
        issue = make_issue("phone-mangled", **phone_mangled(shape, likely))
        assert_welsh(issue.message, "020 7946 0123")


# ---------------------------------------------------------------- the reasons and fragments


def _bad_dates() -> list[tuple[object, date_problems.Want]]:
    """A cell for every way a date or time can be wrong, and what its column holds."""
    texts = {
        shape.format(d=d, m=m, y=y, H=hour, M=minute, h=hour)
        for shape in TYPED_SHAPES
        for d in (0, 29, 31, 32)
        for m in (0, 2, 4, 13)
        for y in ("2027", "27", "0000")
        for hour in (0, 13, 24, 25)
        for minute in (0, 61)
    }
    more = [
        "14/02/1985 abc",
        "14/02",
        "1430",
        "3 Foo 2026",
        "14/02/19855",
        "2026-12-03T14:30Z",
        "14:30",
        "03/12/2027",
        "31 Chwefror 2027 10:00",
        "dydd Llun 30 o Fehefin 2031 25:00",
    ]
    cells: list[tuple[object, date_problems.Want]] = []
    for text in [*sorted(texts), *more]:
        cells += [(text, "datetime"), (text, "date"), (text, "time")]
    cells += [(80000.0, "datetime"), (80000.0, "date"), (1430, "time")]
    return [*cells, (date(2027, 1, 1), "datetime")]


def test_every_reason_a_date_or_time_cannot_be_read_is_welsh(welsh: None) -> None:
    reasons: Counter[str] = Counter()
    for cell, want in _bad_dates():
        explained = date_problems.explain(cell, want, PIVOT)
        if not explained:
            continue
        text = f"{explained['why']}. {explained['advice']}"
        assert_welsh(text, cell, *str(cell).split())
        reasons[explained["advice"]] += 1
    assert len(reasons) >= 20  # the branches were reached, not one reason twenty times


def test_departments_rows_rules_and_answers_are_welsh(welsh: None) -> None:
    many = {f"Adran {i}": i for i in range(1, 13)}
    texts = [
        (unknown_department("Tay", SETTINGS.departments), ("Tai", "Tay", "Budd-daliadau")),
        (unknown_department("Budd", {"Budd-daliadau": 1}), ("Budd-daliadau",)),
        (unknown_department("Adran 1x", many), tuple(many)),
        (unknown_department("Zzz", many), ()),
        (unknown_department("Zzz", {}), ()),
    ]
    for values, names in texts:
        assert_welsh(" ".join(values.values()), *names)
    for rows in ([4], [4, 9], [4, 9, 12], list(range(2, 20))):
        assert_welsh(row_list(rows))
    schema = book_schema(SETTINGS, NOW)
    for field, column in schema.columns.items():
        for check in column.checks:
            assert_welsh(rule_text(schema, field, str(check.name)), "01/01/1900")
    assert i18n.pgettext("answer", "Yes") == "Ie" and i18n.pgettext("answer", "No") == "Na"
    assert_welsh(i18n.gettext("the platform's default"))


def test_the_email_reasons_we_know_are_welsh_and_the_others_read_as_the_general_one(
    welsh: None,
) -> None:
    addresses = [
        *("abc", "abc@", "@x.org", "a..b@x.org", "a@x", "a b@x.org", "a@x.org.", ".a@x.org"),
        *("a.@x.org", "a@-x.org", "a@x_y.org", "a@x.invalid", "a@x-.org", "a@.x.org"),
        *("a@x.-y.org", "a@b@c.org"),
    ]
    parsed = parse_email(pd.Series(addresses, dtype=object))
    assert parsed.codes.tolist() == ["invalid-email"] * len(addresses)
    assert parsed.details is not None
    for address, details in zip(addresses, parsed.details.tolist(), strict=True):
        issue = make_issue("invalid-email", value=address, **(details or {}))
        assert_welsh(issue.message, address, "'_'", "'@'", "SPACE")
    assert reason_words("it sings out of tune") is None  # one we have no words for: the default


def test_the_allocators_reasons_are_welsh(tmp_path: Path, welsh: None) -> None:
    day = datetime(2027, 8, 19, 10, 0)
    week = day + timedelta(days=7)
    slots = [
        Slot(0, 2, day, day, 30, department=1, language=None, capacity=1),
        Slot(1, 3, week, week, 30, department=1, language="Cymraeg", capacity=1),
    ]
    people = [
        Claimant(0, 2, department=3),  # no slot of their department
        Claimant(1, 3, department=1, language="Pwyleg"),  # no slot with their language
        Claimant(2, 4, department=1, earliest=date(2027, 9, 1)),  # none in the window
        Claimant(3, 5, department=1, earliest=date(2027, 8, 20), latest=date(2027, 8, 21)),
        Claimant(4, 6, department=1, latest=date(2027, 8, 1)),
        Claimant(5, 7, department=1, earliest=date(2027, 8, 1), latest=date(2027, 8, 1)),
        Claimant(6, 8, department=1, language="cymraeg"),  # gets the Welsh slot
        Claimant(7, 9, department=1, language="Cymraeg"),  # the only such slot is full
        Claimant(8, 10, department=1),  # gets the first slot
        Claimant(9, 11),  # every slot full by then
    ]
    names = {1: "Budd-daliadau"}
    result = plan(people, slots, department_names=names)
    reasons = {u.claimant.row: u.reason for u in result.unplaced}
    assert set(reasons.values()) == set(Reason) - {Reason.NO_USABLE_SLOT}
    for unplaced in result.unplaced:
        assert_welsh(unplaced.words, "Pwyleg", "Cymraeg", "Budd-daliadau")
    nothing = plan(people[:1], [], department_names=names)
    assert_welsh(nothing.unplaced[0].words)
    left_out = _left_out(tmp_path)
    assert len(set(left_out)) == 3
    for words in left_out:
        assert_welsh(words)
        gone = plan(people[:1], [], left_out=words, department_names=names).unplaced[0].words
        assert_welsh(gone)
        alone = plan(people[:1], slots[:1], left_out=words).unplaced[0].words
        assert_welsh(alone)


def _left_out(folder: Path) -> list[str]:
    """Why slot rows could not be used, in each of the three ways it is said."""
    past, future = "19/08/2020 10:00", "19/08/2027 10:00"
    cases = {
        "all-past": [past, past],
        "some-past": [past, "dim", future],
        "errors": ["dim", future],
    }
    words = []
    for name, starts in cases.items():
        path = write_xlsx(folder / f"{name}.xlsx", [{"Dechrau": s} for s in starts], ["Dechrau"])
        sheet = validate_slots(read_table(path, kind="slots", settings=SETTINGS), SETTINGS, now=NOW)
        found = left_out_words(sheet)
        assert found is not None
        words.append(found)
    return words


def test_where_an_issue_is_is_welsh(welsh: None) -> None:
    places = [
        Issue("required", CODES["required"].severity, "", row=14, column="C", header="Apwyntiad"),
        Issue("hidden-column", CODES["hidden-column"].severity, "", column="H"),
        Issue("sheet-ignored", CODES["sheet-ignored"].severity, ""),
    ]
    assert [p.where for p in places] == ["Rhes 14, colofn C (Apwyntiad)", "Colofn H", "Y ffeil"]
    source = SourceInfo("a.xlsx", "a.xlsx", "0" * 64, 1, "xlsx", sheet="Apwyntiadau")
    assert source.where == 'a.xlsx (taflen "Apwyntiadau")'


# ---------------------------------------------------------------- the reader's refusals


def _csv(text: str | bytes) -> Callable[[Path], Path]:
    return lambda folder: hostile.csv_file(folder, "hawlwyr.csv", text)


def _folder(folder: Path) -> Path:
    (folder / "ffolder").mkdir()
    return folder / "ffolder"


# The English headers a refusal may quote (those found, those accepted)
ENGLISH_HEADERS = sorted(
    {s for kind in ("book", "cancel") for f in fields_for(kind) for s in (f.header, *f.aliases)}
    | set(BOOK_HEADERS)
)
GREEK = (
    "Enw'r hawlydd,Apwyntiad\r\n"
    "Γιώργος Παπαδόπουλος,01/12/2026 10:00\r\nΜαρία Κωνσταντίνου,02/12/2026 10:00\r\n"
)
REFUSED: dict[str, Callable[[Path], Path]] = {
    "old xls": hostile.old_xls,
    "password": hostile.password_xlsx,
    "other cfb": lambda folder: hostile.cfb_file(folder, "hawlwyr.xlsx", ["Arall"]),
    "truncated": hostile.truncated_xlsx,
    "corrupt member": hostile.corrupt_member_xlsx,
    "zip bomb": lambda folder: hostile.zip_bomb_xlsx(folder, inflates_to=1 << 29),
    "lying zip bomb": lambda folder: hostile.zip_bomb_xlsx(folder, inflates_to=1 << 29, lie=True),
    "ods": hostile.ods_file,
    "docx": hostile.docx_named_xlsx,
    "garbage": hostile.garbage_csv,
    "pdf": _csv(b"%PDF-1.4 ..."),
    "html": _csv("<html><body><table></table></body></html>"),
    "xml": _csv('<?xml version="1.0"?><a/>'),
    "mixed encodings": _csv(
        "Enw'r hawlydd,Apwyntiad\nSiân,01/12/2026 10:00\n".encode()
        + "Renée,01/12/2026 10:00\n".encode("cp1252")
    ),
    "greek": _csv(GREEK.encode("cp1253")),
    "empty": _csv(b""),
    "blank rows": _csv("\n ,\n"),
    "quote": _csv("Enw'r hawlydd,Apwyntiad\n\"Siân,01/12/2026 10:00\n"),
    "one column": _csv("Enw'r hawlydd;Apwyntiad\nSiân;01/12/2026 10:00\n".replace(";", "")),
    "data as headers": _csv("Siân,01/12/2026 10:00\n"),
    "no headers": _csv(",,\nSiân,,\n"),
    "clash": _csv("Enw'r hawlydd,Enw,Apwyntiad\nSiân,Siân,01/12/2026 10:00\n"),
    "cancel sheet": _csv("ID yr apwyntiad,Cyfeirnod,Rheswm canslo\nabc,CYF-1,Symud\n"),
    "misspelt": _csv(
        "Enw'r hawlyd,Apwyntiad,Ffôn,E-bost,Adran,Iaith,Cyfeirnod,Hyd,Lled band,"
        "Recordio,Sgwrsio,Meicroffon,Cymylu'r cefndir,Rhannu sgrin\nSiân\n"
    ),
    "missing": _csv(  # read as a cancel sheet: a book sheet
        "Enw'r hawlydd,Dyddiad yr apwyntiad,Amser yr apwyntiad\nSiân,01/12/2026,10:00\n"
    ),
    "no such file": lambda folder: folder / "dim.xlsx",
    "a folder": _folder,
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_every_refusal_of_the_reader_is_welsh(case: str, tmp_path: Path, welsh: None) -> None:
    path = REFUSED[case](tmp_path)
    kind = "cancel" if case == "missing" else "book"
    settings = IntakeSettings(max_rows=100_000)
    with pytest.raises(InputError) as refused:
        read_table(path, kind=kind, settings=settings)
    message = refused.value.message
    assert refused.value.exit_code == 2
    assert_welsh(message, path, path.name, "Enw'r hawlyd", "Siân", *ENGLISH_HEADERS)


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (IntakeSettings(max_rows=2), "Mae 3 o resi yn mawr.csv; y terfyn yw 2 (intake max_rows)."),
        (IntakeSettings(max_file_bytes=10), "; y terfyn yw 0.0 MB (intake max_file_bytes)."),
    ],
)
def test_the_limits_are_said_in_welsh(
    tmp_path: Path, settings: IntakeSettings, says: str, welsh: None
) -> None:
    path = tmp_path / "mawr.csv"
    path.write_text("Enw'r hawlydd,Apwyntiad\n" + "Siân,01/12/2026 10:00\n" * 3, "utf-8")
    with pytest.raises(InputError) as refused:
        read_table(path, kind="book", settings=settings)
    assert says in refused.value.message
    assert_welsh(refused.value.message, "mawr.csv")


def test_a_sheet_that_is_not_there_is_said_in_welsh(tmp_path: Path, welsh: None) -> None:
    path = write_xlsx(tmp_path / "llyfr.xlsx", [book_row(0)])
    with pytest.raises(InputError) as refused:
        read_table(path, kind="book", sheet="Wythnos 48")
    assert refused.value.message == (
        'Nid oes taflen o\'r enw "Wythnos 48" yn llyfr.xlsx. Ei thaflenni yw: "Sheet".'
    )


# ---------------------------------------------------------------- looked up once per message


def _full_of_errors(folder: Path, rows: int) -> Path:
    """A book sheet whose every row is wrong in the same dozen ways, with values that change
    from row to row (names, dates of birth, phones, emails and more are never the same)."""
    lines = ["Cyfeirnod,Enw'r hawlydd,Apwyntiad,Dyddiad geni,Ffôn,E-bost,Angen cyfieithydd?,"
             "Adran,Lled band,Hyd (munudau)"]  # fmt: skip
    for i in range(rows):
        lines.append(
            f"CYF-{i // 2},Hawlydd {i},{32 + i % 60}/08/2027 {i % 10}:61,"
            f"{1 + i % 28}/{1 + i // 28 % 12}/{2100 + i // 336},"
            f"12{i},x{i}@,efallai {i},Adran {i},llydan {i},tri deg {i}"
        )
    path = folder / f"gwallau-{rows}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _count_lookups(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count every call into the catalogues of both languages."""
    calls: Counter[str] = Counter()
    for language in i18n.LANGUAGES:
        catalogue = i18n.translations_for(language)
        for method in ("gettext", "ngettext", "pgettext"):
            real = getattr(catalogue, method)

            def counting(*args: Any, _real: Any = real, _name: str = method) -> Any:
                calls[_name] += 1
                return _real(*args)

            monkeypatch.setattr(catalogue, method, counting)
    return calls


@pytest.mark.parametrize("language", ["en", "cy"])
def test_each_message_is_looked_up_once_not_once_per_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """A 2,000-row sheet full of errors takes as many catalogue lookups as a 200-row one."""
    calls = _count_lookups(monkeypatch)
    counts, issues = {}, {}
    for rows in (200, 2000):
        path = _full_of_errors(tmp_path, rows)
        i18n.forget_lookups()
        date_problems._explain_text.cache_clear()  # its reasons are remembered per text
        calls.clear()
        with i18n.use_language(language):
            table = read_table(path, kind="book", settings=SETTINGS)
            result = validate_book(table, SETTINGS, now=NOW)
            text = [str(issue) for issue in result.issues]
        counts[rows], issues[rows] = sum(calls.values()), len(text)
    assert issues[2000] >= 10 * issues[200] > 2000  # every row is wrong, in many ways
    assert counts[2000] == counts[200] > 20
