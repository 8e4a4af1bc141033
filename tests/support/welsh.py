"""Welsh in tests: a book sheet written as a Welsh office writes it, and a check that a
message rendered in Welsh has no English left in it.

The sheet's headers are the Welsh template's, its answers Welsh (Oes, Nac ydy, Gwir...), its
dates written with Welsh month and day names; its claimants' names have ŵ, ŷ and â. Every
row is valid at NOW, in English mode and in Welsh mode alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from batch_scheduler.i18n import maintain
from batch_scheduler.i18n.catalogue import template_path
from tests.support.sheets import write_xlsx

WELSH_BOOK_HEADERS = (
    "Cyfeirnod",
    "Enw'r hawlydd",
    "Apwyntiad",
    "Dyddiad geni",
    "Ffôn",
    "E-bost",
    "Angen cyfieithydd?",
    "Iaith y cyfieithydd",
    "Adran",
    "Lled band",
    "Recordio",
    "Hyd (munudau)",
    "Nodiadau",  # not a field: kept and copied to the results
)
WELSH_DEPARTMENTS = {"Budd-daliadau": 1, "Tai": 2}
# (reference, name, appointment as written, what it means (London wall clock), answers...)
_ROWS: tuple[tuple[Any, ...], ...] = (
    ("CYF-001", "Gwenllïan Ŵyn", "19 Awst 2027 14:30", "2027-08-19 14:30", "14 Chwefror 1985",
     "Oes", "Cymraeg", "Budd-daliadau", "isel", "Nac oes"),
    ("CYF-002", "Dafydd ap Gŷn", "19eg o Awst 2027 15:00", "2027-08-19 15:00",
     "3ydd o Fawrth 1990", "Na", None, 1, "Canolig", "Gwir"),
    ("CYF-003", "Siân Llewelyn", "dydd Iau 19 Awst 2027 15:30", "2027-08-19 15:30", None,
     "NAC YDY", None, "Tai", "UCHEL", "Naddo"),
    ("CYF-004", "Rhodri Tŷ Mawr", "3ydd o Fawrth 2027 am 2:30yh", "2027-03-03 14:30",
     "1af o Fehefin 1979", "Ydy", "Saesneg", None, None, "Anwir"),
    ("CYF-005", "Ffion Wâl", "Iau, 14 Ion 2027 09:15", "2027-01-14 09:15", "dydd Sul 5 Mai 2002",
     "nag oes", None, 2, "isel", "Do"),
    ("CYF-006", "Mererid Ŵen", "2 Rhagfyr 2026 10:00", "2026-12-02 10:00", "31/12/1960",
     "Ie", "Pwyleg", "Budd-daliadau", None, "Ydw"),
)  # fmt: skip


def welsh_rows() -> list[dict[str, Any]]:
    """The rows of the Welsh book sheet, by Welsh header."""
    rows = []
    for i, (ref, name, when, _meant, born, needed, language, dept, band, rec) in enumerate(_ROWS):
        rows.append(
            {
                "Cyfeirnod": ref,
                "Enw'r hawlydd": name,
                "Apwyntiad": when,
                "Dyddiad geni": born,
                "Ffôn": f"07400 900{i:03d}",
                "E-bost": f"hawlydd{i}@example.org",
                "Angen cyfieithydd?": needed,
                "Iaith y cyfieithydd": language,
                "Adran": dept,
                "Lled band": band,
                "Recordio": rec,
                "Hyd (munudau)": 30 + 15 * (i % 2),
                "Nodiadau": f"nodyn {i}",
            }
        )
    return rows


WELSH_NAMES = tuple(row[1] for row in _ROWS)
WELSH_TIMES = tuple(row[3] for row in _ROWS)  # what each appointment means, London time


def welsh_book_sheet(path: Path, rows: list[dict[str, Any]] | None = None) -> Path:
    return write_xlsx(path, welsh_rows() if rows is None else rows, WELSH_BOOK_HEADERS)


# ---------------------------------------------------------------- English left in a message

# Names that read the same in both languages: programs, formats, commands and options.
SAME_IN_BOTH = frozenset(
    {"excel", "csv", "xlsx", "xls", "xlsb", "ods", "pdf", "html", "xml", "zip", "utf", "api",
     "https", "http", "readme", "utc", "gmt", "bst", "windows", "opendocument", "dos", "koi",
     "iso", "thai", "data", "slot", "book", "cancel", "validate", "intake", "url",
     # Welsh words spelt like English ones: "cell", "ni all" (cannot), the language's name
     "cell", "all", "cymraeg",
     # English month names a message quotes on purpose, as what the reader also takes
     "dec", "feb"}
)  # fmt: skip
# What a message may quote in English: Excel's own menus and file types, command lines,
# config names, web and email addresses, appointment ids.
_NAMES = re.compile(
    r"File > Info > Protect Workbook > Encrypt with Password"
    r"|CSV UTF-8 \(Comma delimited\)|CSV \(comma delimited\)"
    r"|--\w+(?: cancel)?|\w+_\w+|\[\w+\]|\S+@\S+|https?://\S+|SLOTS\.csv"
    r"|[0-9a-f]{8}-[0-9a-f-]{27}"  # an appointment id
)
_WORD = re.compile(r"[A-Za-z]{3,}")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(_NAMES.sub(" ", text))}


@cache
def english_words() -> frozenset[str]:
    """Every word of our English messages (the .pot), but the names the same in Welsh."""
    template = maintain.read(template_path())
    found: set[str] = set()
    for message in template:
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        for text in ids:
            found |= _words(re.sub(r"\{[^{}]*\}|%\([^)]*\)\w", " ", str(text)))
    return frozenset(found - SAME_IN_BOTH)


def english_left(text: str, values: Iterable[object] = ()) -> set[str]:
    """The words of our English messages still in `text`, once the values it quotes (cell
    values, headers, file names...) are taken out."""
    for value in sorted({str(v) for v in values if v is not None}, key=len, reverse=True):
        text = text.replace(value, " ")
    return _words(text) & english_words()
