"""book.py: RawTable -> requests + issues, as the person fixing the sheet sees them."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.intake import read_table
from batch_scheduler.issues import ALL_CODES, ALLOCATION_CODES, READER_CODES, RUN_CODES
from batch_scheduler.models import Issue, RawTable, Severity
from batch_scheduler.validate import BookValidation, validate_book, validate_cancel
from tests.validate.tables import GOOD, NOW, SETTINGS, book, codes, raw_table

LONDON = ZoneInfo("Europe/London")
PANDERA_WORDS = (
    "greater_than",
    "in_range",
    "str_length",
    "isin",
    "not_nullable",
    "Column",
    "dtype",
)


# ---------------------------------------------------------------- one rule at a time

# (cell changes, expected code or None, a word the message must contain to say what to do)
CASES: list[tuple[dict[str, object], str | None, str]] = [
    ({}, None, ""),
    ({"Reference": ""}, None, ""),
    ({"Reference": "x" * 256}, "too-long", "Shorten"),
    ({"Appointment": ""}, "required", "Fill it in"),
    ({"Appointment": "next tuesday"}, "invalid-datetime", "day first"),
    ({"Appointment": "14/07/2026"}, "invalid-datetime", "no time"),
    ({"Appointment": date(2026, 7, 14)}, "invalid-datetime", "no time of day"),
    ({"Appointment": "30/02/2027 10:00"}, "invalid-datetime", "no 30 February 2027"),
    ({"Appointment": "28/03/2027 01:30"}, "nonexistent-local-time", "Pick a time"),
    ({"Appointment": "31/10/2027 01:30"}, "ambiguous-local-time", "offset"),
    ({"Appointment": "01/05/2026 10:00"}, "in-past", "future"),
    ({"Appointment": datetime(2026, 7, 14, 14, 30)}, None, ""),
    ({"Appointment": 46217.6041666667}, None, ""),
    ({"Appointment": "2026-07-14T14:30+01:00"}, None, ""),
    ({"Duration": ""}, None, ""),
    ({"Duration": 30.0}, None, ""),
    ({"Duration": 30.5}, "invalid-integer", "whole number"),
    ({"Duration": "half an hour"}, "invalid-integer", "whole number"),
    ({"Duration": "0"}, "out-of-range", "1 to 1440"),
    ({"Duration": 1441}, "out-of-range", "1 to 1440"),
    ({"Claimant name": "   "}, "required", "Fill it in"),
    ({"Claimant name": "n" * 256}, "too-long", "at most 255"),
    ({"Claimant name": "SiÃ¢n Llewelyn"}, "mojibake", "did you mean “Siân Llewelyn”?"),
    ({"DOB": ""}, None, ""),
    ({"DOB": date(1985, 2, 14)}, None, ""),
    ({"DOB": "31/02/1985"}, "invalid-date", "no 31 February 1985"),
    ({"DOB": "01/01/2030"}, "dob-in-future", "Check the day"),
    ({"DOB": "01/01/1850"}, "out-of-range", "1900"),
    ({"Phone": "+33 1 23 45 67 89"}, None, ""),
    ({"Phone": "0740012"}, "invalid-phone", "020 7946 0123"),
    ({"Phone": 7400123456}, "phone-mangled", "Format the column as Text"),
    ({"Phone": "4.47400123456E+11"}, "phone-mangled", "07400 123456"),
    ({"Phone": "7400123456"}, "phone-mangled", "It was probably 07400 123456."),
    ({"Email": "someone@"}, "invalid-email", "Check it"),
    ({"Interpreter": "maybe"}, "invalid-boolean", "Yes or No"),
    ({"Interpreter": "Y", "Language": ""}, "language-required", "Fill in the language"),
    ({"Interpreter": "", "Language": "Welsh"}, "language-not-needed", "Yes"),
    ({"Department": "2"}, None, ""),
    ({"Department": "Planning"}, "unknown-department", "Benefits (1), Housing Team (2)"),
    ({"Department": "Housing"}, "unknown-department", "[departments] in your config file"),
    ({"Department": 9}, "unknown-department", "Benefits"),
    ({"Bandwidth": "ultra"}, "not-in-list", "low, medium, high"),
    ({"Bandwidth": "HIGH"}, None, ""),
    ({"Recording": "sometimes"}, "invalid-boolean", "No"),
    ({"Redirect": "yes", "Claimant redirect URL": "https://example.org/x"}, None, ""),
    ({"Redirect": "yes", "Claimant redirect URL": "http://example.org/x"}, "insecure-url", "https"),
    ({"Redirect": "yes", "Claimant redirect URL": "thanks page"}, "invalid-url", "https://"),
    ({"Claimant redirect URL": "https://example.org/x"}, "redirect-without-flag", "Set"),
]


@pytest.fixture(scope="module")
def all_cases() -> BookValidation:
    """Every case as one row of one sheet (rows are independent; one run keeps tests fast)."""
    return book(*(change for change, _, _ in CASES))


@pytest.mark.parametrize("pos", range(len(CASES)), ids=[str(c) for c, _, _ in CASES])
def test_each_rule(all_cases: BookValidation, pos: int) -> None:
    _change, code, hint = CASES[pos]
    issues = [i for i in all_cases.issues if i.row == pos + 2]
    if code is None:
        assert issues == []
        assert pos in all_cases.requests
        return
    assert [i.code for i in issues] == [code]
    issue = issues[0]
    assert hint in issue.message
    assert issue.column is not None and issue.header in GOOD
    assert (pos in all_cases.requests) == (issue.severity is Severity.WARNING)


def test_an_issue_reads_well_with_its_location() -> None:
    issue = book({"Appointment": "28/03/2027 01:30"}).issues[0]
    assert str(issue) == (
        "Row 2, column B (Appointment): 28/03/2027 01:30 does not exist in Europe/London: the "
        "clocks go forward from 01:00 to 02:00 that night. Pick a time outside that hour."
    )
    assert issue.value == "28/03/2027 01:30" and issue.field == "appointment_at"


def test_ambiguous_message_names_both_meanings() -> None:
    message = book({"Appointment": "31/10/2027 01:30"}).issues[0].message
    assert "01:30 BST (00:30 UTC)" in message and "01:30 GMT (01:30 UTC)" in message


# (cell changes, the whole message): each way a cell can be wrong says what is wrong with it
MESSAGES: list[tuple[dict[str, object], str]] = [
    (
        {"Appointment": "31/02/2027 10:00"},
        "“31/02/2027 10:00” is not a date and time we can read: there is no 31 February 2027 "
        "(February 2027 has 28 days). Check the day and the month.",
    ),
    (
        {"Appointment": "29/02/27 10:00"},
        "“29/02/27 10:00” is not a date and time we can read: there is no 29 February 2027 "
        "(2027 is not a leap year). Check the day and the month.",
    ),
    (
        {"Appointment": "01/15/2027 10:00"},
        "“01/15/2027 10:00” is not a date and time we can read: 15 is not a month. If you wrote "
        "the month first (US style), swap it: 15/01/2027 10:00.",
    ),
    (
        {"Appointment": "03/12/2027 25:00"},
        "“03/12/2027 25:00” is not a date and time we can read: there is no hour 25. The 24-hour "
        "clock goes from 00:00 to 23:59: check the time.",
    ),
    (
        {"Appointment": "03/12/2027 14:61"},
        "“03/12/2027 14:61” is not a date and time we can read: there is no minute 61. Minutes "
        "go from 00 to 59: check the time.",
    ),
    (
        {"Appointment": "25:00"},
        "“25:00” is not a date and time we can read: it is a time of day with no date, and there "
        "is no hour 25. Write the date and the time, like 03/12/2026 14:30.",
    ),
    (
        {"Appointment": "14/07/2026"},
        "“14/07/2026” is not a date and time we can read: it has a date but no time of day. Add "
        "the time after the date, like 03/12/2026 14:30.",
    ),
    (
        {"Appointment": "3/12/2027 0:30am"},
        "“3/12/2027 0:30am” is not a date and time we can read: “0:30am” mixes the 24-hour clock "
        "and the 12-hour clock (am/pm). Write 00:30, or 12:30am.",
    ),
    (
        {"Appointment": "03/12/027 10:00"},
        "“03/12/027 10:00” is not a date and time we can read: 027 is not a year. Write the year "
        "with all four digits, like 03/12/2026 14:30.",
    ),
    (
        {"Appointment": "next tuesday"},
        "“next tuesday” is not a date and time we can read. Write it day first, like "
        "03/12/2026 14:30, or as 2026-12-03 14:30.",
    ),
    (
        {"DOB": "12/25/1980"},
        "“12/25/1980” is not a date we can read: 25 is not a month. If you wrote the month first "
        "(US style), swap it: 25/12/1980.",
    ),
    (
        {"DOB": "29/02/83"},
        "“29/02/83” is not a date we can read: there is no 29 February 1983 (1983 is not a leap "
        "year). Check the day and the month.",
    ),
    (
        {"DOB": "01/12/26"},
        "The date of birth “01/12/26” is not in the past (we read it as 1 December 2026). Check "
        "the day, month and year (day first, with all four digits of the year: 14/02/1985).",
    ),
    (
        {"Phone": "7400900123"},
        "This phone number has lost its leading 0 (or +): it was stored as a number, in Excel or "
        "another program, before it reached this file. It was probably 07400 900123. Format the "
        "column as Text and type the number again.",
    ),
    (
        {"Phone": 7400900123},
        "Excel turned this phone number into a number, which drops the leading 0 (and a +). It "
        "was probably 07400 900123. Format the column as Text and type the number again.",
    ),
    (
        {"Claimant name": "Jan WiÅ›niewski"},
        "“Jan WiÅ›niewski” looks garbled, as if another program misread its accented letters: "
        "did you mean “Jan Wiśniewski”? If so, correct the cell: it is sent as written.",
    ),
    (
        {"Interpreter": "yes", "Language": "PortuguÃªs"},
        "“PortuguÃªs” looks garbled, as if another program misread its accented letters: did you "
        "mean “Português”? If so, correct the cell: it is sent as written.",
    ),
    (
        {"Department": "Housing"},
        "“Housing” is not a known department id or name. The closest known name is Housing Team "
        "(2). Use the department's number or a known name, or add the name under [departments] "
        "in your config file (see README).",
    ),
    (
        {"Department": "Planning"},
        "“Planning” is not a known department id or name. Known departments: Benefits (1), "
        "Housing Team (2). Use the department's number or a known name, or add the name under "
        "[departments] in your config file (see README).",
    ),
    (
        {"Email": "x@test"},
        "“x@test” is not a valid email address: the part after the @-sign is not valid. It "
        "should have a period. Check it, or leave the cell empty.",
    ),
    (
        {"Email": "nope"},
        "“nope” is not a valid email address: it must have an @-sign. Check it, or leave the cell "
        "empty.",
    ),
    (
        {"Duration": "half an hour"},
        "“half an hour” is not a whole number. Write Duration in digits, like 30.",
    ),
]


@pytest.mark.parametrize(("change", "message"), MESSAGES, ids=[str(c) for c, _ in MESSAGES])
def test_each_message_says_what_is_wrong(change: dict[str, object], message: str) -> None:
    assert [i.message for i in book(change).issues] == [message]


def test_unknown_department_without_names_points_to_the_config() -> None:
    issue = book({"Department": "Benefits"}, settings=IntakeSettings()).issues[0]
    assert issue.message == (
        "“Benefits” is not a known department id or name. No department names are set up. Use "
        "the department's number, or add the name under [departments] in your config file "
        "(see README)."
    )


def test_unknown_department_among_many_lists_only_the_closest() -> None:
    names = ["Benefits", "Housing Team", "Housing Benefit", "Employment Support", "Council Tax"]
    names += ["Parking", "Waste", "Libraries", "Adult Social Care", "Licensing", "Highways"]
    many = IntakeSettings(departments={name: n for n, name in enumerate(names, 1)})
    housing, bins = book({"Department": "Housing"}, {"Department": "Bins"}, settings=many).issues
    assert " The closest known names are Housing Team (2), Housing Benefit (3). " in housing.message
    assert " None of the 11 names set up is close. " in bins.message


def test_genuine_accented_names_pass_silently() -> None:
    names = ["Siân Llewelyn", "Zoë Evans", "Łukasz Nowak", "Ó Súilleabháin", "Nguyễn Văn An"]
    result = book(*({"Claimant name": name} for name in names))
    assert result.issues == () and len(result.requests) == len(names)


def test_ids_and_addresses_are_not_taken_for_garbled_text() -> None:
    result = book({"Reference": "REF-Ã¢-1"})
    assert result.issues == () and result.requests[0].reference == "REF-Ã¢-1"


def test_a_two_column_time_says_what_is_wrong() -> None:
    rows = [["14/07/2026", "25:99", "A"], ["14/07/2026", "1430", "B"], ["01/15/2027", "10:00", "C"]]
    result = validate_book(raw_table(["Date", "Time", "Name"], rows), SETTINGS, now=NOW)
    assert [i.message for i in result.issues] == [
        "“25:99” is not a time of day we can read: there is no hour 25. The 24-hour clock goes "
        "from 00:00 to 23:59: check the time.",
        "“1430” is not a time of day we can read. Write it with a colon, like 14:30.",
        "“01/15/2027” is not a date we can read: 15 is not a month. If you wrote the month first "
        "(US style), swap it: 15/01/2027.",
    ]


def test_a_phone_without_its_zero_in_a_csv_is_caught(tmp_path: Path) -> None:
    """The CSV path as a user meets it: the file read from disk, every cell text."""
    sheet = tmp_path / "in.csv"
    sheet.write_text(
        "Claimant name,Appointment,Phone\nSiân,14/07/2026 14:30,7400900123\n", encoding="utf-8"
    )
    result = validate_book(read_table(sheet, kind="book", settings=SETTINGS), SETTINGS, now=NOW)
    assert [(i.code, i.column, i.value) for i in result.issues] == [
        ("phone-mangled", "C", "7400900123")
    ]
    assert "It was probably 07400 900123." in result.issues[0].message


def test_mangled_phone_names_the_likely_number() -> None:
    issue = book({"Phone": 7400123456}).issues[0]
    assert "It was probably 07400 123456." in issue.message
    assert issue.value == "7400123456"


# ---------------------------------------------------------------- every code, and no pandera


def _cancel_codes() -> set[str]:
    rows = [["", "", ""], ["not-a-uuid", "", ""], ["", "R" * 300, ""], ["", "R", "SiÃ¢n"]]
    table = raw_table(["Appointment id", "Reference", "Reason"], rows, kind="cancel")
    return {i.code for i in validate_cancel(table, SETTINGS).issues}


def _two_column_codes() -> set[str]:
    table = raw_table(["Date", "Time", "Name"], [["14/07/2026", "25:99", "A"]])
    return set(codes(validate_book(table, SETTINGS, now=NOW)))


def test_every_code_is_produced_somewhere(all_cases: BookValidation) -> None:
    seen = set(codes(all_cases))
    seen |= set(codes(book({"Reference": "R"}, {"Reference": "R"})))
    seen |= set(codes(book({"Reference": ""}, {"Reference": ""})))
    seen |= _cancel_codes() | _two_column_codes()
    # the others: test_allocation_schema, test_reader, test_conflicts
    assert seen == ALL_CODES - READER_CODES - ALLOCATION_CODES - RUN_CODES


def test_messages_never_carry_pandera_text(all_cases: BookValidation) -> None:
    assert len(all_cases.issues) == len([c for c in CASES if c[1]])
    for issue in all_cases.issues:
        assert not any(word in issue.message for word in PANDERA_WORDS), issue.message
        assert issue.message.endswith(".")


# ---------------------------------------------------------------- DST, computed not hard-coded


def _transitions(year: int) -> list[datetime]:
    """UTC instants in `year` when Europe/London's offset changes."""
    out, hour = [], datetime(year, 1, 1, tzinfo=UTC)
    while hour.year == year:
        nxt = hour + timedelta(hours=1)
        if hour.astimezone(LONDON).utcoffset() != nxt.astimezone(LONDON).utcoffset():
            out.append(nxt)
        hour = nxt
    return out


def test_every_minute_of_the_spring_gap_and_autumn_overlap_is_refused() -> None:
    spring, autumn = _transitions(NOW.year + 1)
    jump = (
        spring.astimezone(LONDON).utcoffset()
        - (spring - timedelta(hours=1)).astimezone(LONDON).utcoffset()
    )
    gap_start = spring.astimezone(LONDON).replace(tzinfo=None) - jump  # clocks skip forward
    overlap_start = autumn.astimezone(LONDON).replace(tzinfo=None)  # clocks repeat from here
    assert jump == timedelta(hours=1)
    minutes = [timedelta(minutes=m) for m in range(60)]
    rows = [[f"{gap_start + m:%d/%m/%Y %H:%M}", "A"] for m in minutes]
    rows += [[f"{overlap_start + m:%d/%m/%Y %H:%M}", "A"] for m in minutes]
    rows += [[f"{gap_start + timedelta(hours=1):%d/%m/%Y %H:%M}", "B"]]  # first minute after
    result = validate_book(raw_table(["Appointment", "Name"], rows), SETTINGS, now=NOW)
    assert codes(result) == ["nonexistent-local-time"] * 60 + ["ambiguous-local-time"] * 60
    assert list(result.requests) == [120]


# ---------------------------------------------------------------- times, cells, two columns


def test_mixed_rows_give_requests_for_exactly_the_valid_ones() -> None:
    result = book(
        {"Appointment": "14/07/2026 14:30", "Phone": "07400 123456", "Chat": "Y"},
        {"Appointment": "bad"},
        {"Appointment": "14/01/2027 14:30", "Phone": "", "Recording": "yes", "Bandwidth": "Low"},
        {"Email": "nope"},
    )
    assert sorted(result.requests) == [0, 2]
    assert result.invalid_positions() == frozenset({1, 3})
    july, january = result.requests[0], result.requests[2]
    assert july.appointment_at == datetime(2026, 7, 14, 13, 30, tzinfo=UTC)
    assert january.appointment_at == datetime(2027, 1, 14, 14, 30, tzinfo=UTC)
    assert july.claimant.phone_number == "+447400123456" and january.claimant.phone_number is None
    assert july.claimant.date_of_birth == date(1985, 2, 14)
    assert july.duration_in_minutes == 45 and july.department_id == 1
    assert july.options == {
        "features_messages_chat_enable": True,
        "features_bandwidth": "medium",  # default
        "features_call_recording_enable": False,  # default
    }
    assert january.options["features_bandwidth"] == "low"
    assert january.options["features_call_recording_enable"] is True
    assert july.is_interpreter_needed is False and july.interpreter_language is None


def test_interpreter_language_goes_only_with_an_interpreter() -> None:
    result = book({"Interpreter": "Yes", "Language": " Welsh "})
    request = result.requests[0]
    assert request.is_interpreter_needed and request.interpreter_language == "Welsh"


def test_two_columns_date_and_time() -> None:
    rows = [
        ["14/07/2026", "14:30", "A"],
        [datetime(2026, 7, 14), time(14, 30), "B"],
        [46217, 0.6041666667, "C"],
        ["14/07/2026", "", "D"],
        ["28/03/2027", "01:15", "E"],
    ]
    result = validate_book(raw_table(["Date", "Time", "Name"], rows), SETTINGS, now=NOW)
    expected = datetime(2026, 7, 14, 13, 30, tzinfo=UTC)
    assert [result.requests[p].appointment_at for p in (0, 1, 2)] == [expected] * 3
    assert [(i.code, i.column) for i in result.issues] == [
        ("required", "B"),
        ("nonexistent-local-time", "A"),
    ]


def test_the_reader_alone_refuses_a_book_sheet_without_an_appointment_column(
    tmp_path: Path,
) -> None:
    """Required columns are checked once, by the reader, with one message (validation
    takes the table the reader made)."""
    sheet = tmp_path / "in.csv"
    sheet.write_text("Name\nA\n", encoding="utf-8")
    with pytest.raises(InputError, match="is missing a required column: Appointment"):
        read_table(sheet, kind="book", settings=SETTINGS)


def test_validation_leaves_the_cycle_collector_to_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Process-wide switches are the run boundary's to flip (runtime.py), never the library's."""
    flipped: list[str] = []
    for name in ("disable", "enable", "freeze", "unfreeze"):
        monkeypatch.setattr(gc, name, lambda name=name: flipped.append(name))
    assert book({}).requests
    assert flipped == []


def test_now_must_be_aware() -> None:
    table = raw_table(list(GOOD), [list(GOOD.values())])
    with pytest.raises(ValueError, match="aware"):
        validate_book(table, SETTINGS, now=datetime(2026, 1, 1))


def test_issues_are_ordered_by_row_then_column_after_the_readers() -> None:
    table = raw_table(list(GOOD), [list((GOOD | {"Email": "x", "Appointment": "?"}).values())] * 2)
    file_issue = Issue("unknown-column", Severity.WARNING, "m", column="Z", header="Notes")
    table = RawTable(**{**table.__dict__, "issues": (file_issue,)})
    result = validate_book(table, SETTINGS, now=NOW)
    where = [(i.row, i.column) for i in result.issues]
    assert where[0] == (None, "Z")
    assert where[1:] == [(2, "A"), (2, "B"), (2, "G"), (3, "A"), (3, "B"), (3, "G")]
