"""Write a large, valid book sheet (xlsx or csv) for the benchmarks.

Every row is valid for `book` on the given `today`: slots fall on weekdays 2-20 days ahead,
phones use Ofcom's drama ranges and emails example.org, so nothing real is ever contacted.
Run: python bench/make_big_sheet.py OUT.xlsx [--rows N] [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

import xlsxwriter

from batch_scheduler.demo.samples import weekday_slots

HEADERS: tuple[str, ...] = (
    "Reference",
    "Claimant name",
    "Appointment",
    "Duration (mins)",
    "Date of birth",
    "Phone",
    "Email",
    "Interpreter needed?",
    "Interpreter language",
    "Department",
    "Recording",
    "Breakout rooms",
    "Agent webcam",
    "Claimant webcam",
    "Background blur",
    "Microphone",
    "Screen sharing",
    "Chat",
    "Participant list",
    "Bandwidth",
)

_FIRST: tuple[str, ...] = ("Siân", "Dafydd", "Gwenllian", "Rhys", "Ffion", "Llinos", "Aoife")
_FIRST += ("Tomasz", "Amira", "James", "Priya", "Oluwaseun", "Megan", "Iolo", "Catrin", "Zofia")
_LAST: tuple[str, ...] = ("Jones", "Williams", "ap Iorwerth", "O'Connor", "Smith-Jones", "Evans")
_LAST += ("Nowak", "Haddad", "Davies", "Patel", "Adeyemi", "Hughes", "Roberts", "Kowalska", "Ali")
_LANGS = ("Welsh", "Polish", "Arabic", "BSL")
_DEPTS = ("Benefits", "Housing", "Employment support", "3")
_BANDWIDTH = ("low", "medium", "high")

Row = tuple[str | int | datetime | date, ...]


def _email(local: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    return ascii_only.replace(" ", "").replace("'", "").lower() + "@example.org"


def big_rows(rows: int, today: date, seed: int = 20261125, prefix: str = "BIG") -> Iterator[Row]:
    """`rows` valid, deterministic rows matching HEADERS; references PREFIX-000000..."""
    rng = random.Random(seed)
    slots = weekday_slots(today)
    for i in range(rows):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        interpreter = rng.random() < 0.1
        yield (
            f"{prefix}-{i:06d}",
            f"{first} {last}",
            slots[i % len(slots)],
            rng.choice((30, 30, 45, 60)),
            date(1940, 1, 1) + timedelta(days=rng.randrange(25_000)),
            f"07400 9{i % 100_000:05d}",
            _email(f"{first}.{last}.{i}"),
            "Yes" if interpreter else "No",
            rng.choice(_LANGS) if interpreter else "",
            rng.choice(_DEPTS),
            *("Yes" if rng.random() < 0.5 else "No" for _ in range(9)),
            rng.choice(_BANDWIDTH),
        )


def _csv_text(value: str | int | datetime | date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _write_csv(path: Path, rows: Iterator[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows([_csv_text(v) for v in row] for row in rows)


def _write_xlsx(path: Path, rows: Iterator[Row], shared_strings: bool) -> None:
    # Excel (and LibreOffice, openpyxl) keep text in a shared-strings table; xlsxwriter's
    # constant_memory mode writes every text inline instead, which calamine reads slower.
    book = xlsxwriter.Workbook(str(path), {"constant_memory": not shared_strings})
    sheet = book.add_worksheet("Appointments")
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, HEADERS)
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, row[:2])
        sheet.write_datetime(r, 2, row[2], when)
        sheet.write_number(r, 3, row[3])
        sheet.write_datetime(r, 4, row[4], day)
        sheet.write_row(r, 5, row[5:])
    book.close()


def write_big_sheet(
    path: Path,
    rows: int = 100_000,
    today: date = date(2026, 11, 25),
    fmt: Literal["xlsx", "csv"] = "xlsx",
    *,
    shared_strings: bool = False,
    prefix: str = "BIG",
) -> Path:
    """Write `rows` valid book rows (20 columns) to `path` as xlsx or csv; return the path.

    `shared_strings` writes the xlsx text as Excel does (slower to write, more memory);
    without it every text cell is written inline, in constant memory.
    """
    data = big_rows(rows, today, prefix=prefix)
    if fmt == "csv":
        _write_csv(path, data)
    elif fmt == "xlsx":
        _write_xlsx(path, data, shared_strings)
    else:
        raise ValueError(f"fmt must be 'xlsx' or 'csv', not {fmt!r}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    parser.add_argument("--shared-strings", action="store_true", help="xlsx text as Excel has it")
    args = parser.parse_args()
    fmt: Literal["xlsx", "csv"] = "csv" if args.out.suffix.lower() == ".csv" else "xlsx"
    write_big_sheet(args.out, args.rows, args.today, fmt, shared_strings=args.shared_strings)


if __name__ == "__main__":
    main()
