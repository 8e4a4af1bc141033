"""What a cell can hold: value classification, Excel's limits, and xlsxwriter helpers.

`value_kind` decides how any value is written (text, number, bool, date) for both the
streamed results workbook (writer.py) and the CSV output (results_csv.py). The
xlsxwriter helpers (`open_book`, `Formats`, `write_table`) serve the smaller workbooks
(templates.py, allocation.py); with `strings_to_formulas` off a string is never a
formula there either.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from batch_scheduler.columns import column_letter
from batch_scheduler.columns.words import defined_name
from batch_scheduler.output.xlsx.layout import (
    FONT_NAME,
    FONT_SIZE,
    LINE_HEIGHT,
    RESULTS_PAGE,
    Page,
    apply_page,
    column_cap,
    column_widths,
    line_count,
    line_length,
    row_height,
)

MAX_ROWS = 1_048_576  # Excel's rows per sheet
MAX_COLUMNS = 16_384  # Excel's columns per sheet
MAX_TEXT = 32_767  # Excel's characters per cell
MAX_URL = 2_079  # Excel's characters per hyperlink
MAX_LINKS = 65_530  # Excel's hyperlinks per sheet
# A spreadsheet runs text typed (or opened from CSV) with one of these first as a formula.
FORMULA_START = frozenset("=+-@\t\r")
_SAMPLE = 2_000  # rows looked at to size a column


BOOK_OPTIONS: Mapping[str, object] = {
    "constant_memory": True,  # rows go to disk as written: flat memory for any row count
    "strings_to_formulas": False,  # a string is never a formula
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "remove_timezone": True,  # Excel has no time zones: keep the wall-clock shown
    "default_format_properties": {"font_name": FONT_NAME, "font_size": FONT_SIZE},
    "default_row_height": round(LINE_HEIGHT * 4 / 3),  # pixels
}
HEADER_FILL = "#DDEBF7"

# Dates as UK ops read and type them (day first), the way their input sheets show them.
DATE_FORMATS = {
    "datetime": "dd/mm/yyyy hh:mm",
    "datetime_s": "dd/mm/yyyy hh:mm:ss",
    "date": "dd/mm/yyyy",
    "time": "hh:mm",
    "time_s": "hh:mm:ss",
}


@contextlib.contextmanager
def open_book(path: Path) -> Iterator[xlsxwriter.Workbook]:
    """A workbook that streams its rows to temporary files beside `path`, saved on exit.

    On an error it is still closed (to release its temporary files) but that error, not
    one from closing a half-written book, is the one raised; the caller discards the file.
    """
    book = xlsxwriter.Workbook(str(path), dict(BOOK_OPTIONS) | {"tmpdir": str(path.parent)})
    try:
        yield book
    except BaseException:
        with contextlib.suppress(Exception):
            book.close()
        raise
    book.close()


class Formats:
    """Every Format of one workbook, created once and cached by (number format, fill, font)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self._cache: dict[tuple[str | None, str | None, bool, bool], Format] = {}
        self.link = book.get_default_url_format()

    def get(
        self,
        num: str | None = None,
        fill: str | None = None,
        bold: bool = False,
        wrap: bool = False,
    ) -> Format:
        key = (num, fill, bold, wrap)
        found = self._cache.get(key)
        if found is None:
            props: dict[str, Any] = {"valign": "top"}  # rows grow for wrapped text
            if num:
                props["num_format"] = DATE_FORMATS.get(num, num)
            if fill:
                props |= {"bg_color": fill, "pattern": 1}
            if bold:
                props["bold"] = True
            if wrap:
                props["text_wrap"] = True
            found = self._cache[key] = self.book.add_format(props)
        return found


def name_cell(book: xlsxwriter.Workbook, sheet: Worksheet, stable: str, row: int, col: int) -> None:
    """Mark cell (row, col) of `sheet` with the defined name of `stable`, scoped to the sheet
    (as StreamSheet.define_name does for the streamed workbooks)."""
    from batch_scheduler.output.xlsx.xml_text import quote_sheet  # it imports this module

    where = quote_sheet(sheet.name)
    book.define_name(f"{where}!{defined_name(stable)}", f"={where}!${column_letter(col)}${row + 1}")


def write_table(
    sheet: Worksheet,
    formats: Formats,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    page: Page = RESULTS_PAGE,
    start: int = 0,
    names: Sequence[str] = (),
) -> int:
    """A header row then rows, laid out to read and to print: bold header row, frozen and
    repeated on every page, a filter, widths from the content (capped: longer text wraps
    and its row grows). Values keep their types (value_kind); returns the next free row.
    `names`: each header's stable name, marked on its cell for programs (name_cell).
    """
    rows = [list(row) for row in rows]
    widest, caps = [], []
    for col, header in enumerate(headers):
        values = [row[col] for row in rows[:_SAMPLE] if col < len(row)]
        widest.append(max([len(header)] + [display_width(v) for v in values]))
        caps.append(column_cap(values))
    widths = column_widths(widest, caps, page)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    header = formats.get(bold=True, fill=HEADER_FILL)
    for col, text in enumerate(headers):
        sheet.write_string(start, col, text, header)
    for col, stable in enumerate(names):
        name_cell(formats.book, sheet, stable, start, col)
    for r, row in enumerate(rows, start + 1):
        write_row(sheet, formats, r, row, widths)
    apply_page(sheet, page)
    if headers:
        sheet.freeze_panes(start + 1, 0)
        sheet.autofilter(start, 0, start + len(rows), len(headers) - 1)
    return start + len(rows) + 1


def write_row(
    sheet: Worksheet,
    formats: Formats,
    row: int,
    values: Sequence[object],
    widths: Sequence[float],
) -> None:
    """One row of typed cells; text too long for its column wraps and the row grows."""
    cells = [value_kind(value) for value in values]
    wraps, lines = [False] * len(cells), 1
    for col, (kind, shown) in enumerate(cells):
        text, width = str(shown), widths[col]
        if kind == "str" and (len(text) > line_length(width) or "\n" in text):
            wraps[col], lines = True, max(lines, line_count(text, width))
    if lines > 1:  # before the cells: rows are streamed (constant_memory)
        sheet.set_row(row, row_height(lines))
    for col, (kind, shown) in enumerate(cells):
        if kind is None:
            continue
        wrap = wraps[col]
        fmt = formats.get(kind if kind in DATE_FORMATS else None, wrap=wrap)
        if kind == "str":
            sheet.write_string(row, col, str(shown), fmt)  # never a formula
        elif kind == "bool":
            sheet.write_boolean(row, col, bool(shown), fmt)
        elif kind == "num":
            sheet.write_number(row, col, shown, fmt)
        else:
            sheet.write_datetime(row, col, shown, fmt)


def value_kind(value: object) -> tuple[str | None, object]:
    """Classify a cell value: (kind, value to write); kind None means an empty cell.

    Kinds: "str", "bool", "num", and the DATE_FORMATS keys. Anything else becomes its text.
    """
    if value is None or value is _NA or value is _NAT:
        return None, None
    if isinstance(value, str):
        return "str", value
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, datetime | date | time):  # before the (slower) numbers.Real check
        return _date_kind(value)
    if isinstance(value, numbers.Real):
        number = float(value) if not isinstance(value, int) else value
        if isinstance(number, float) and not math.isfinite(number):
            return (None, None) if math.isnan(number) else ("str", str(number))
        return "num", number
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value_kind(value.item())
    if isinstance(value, timedelta):
        return "str", str(value)
    return "str", str(value)


def _date_kind(value: datetime | date | time) -> tuple[str | None, object]:
    if isinstance(value, datetime):
        to_plain = getattr(value, "to_pydatetime", None)  # pandas Timestamp
        moment: datetime = to_plain() if to_plain else value
        if moment.year < 1900:  # before Excel's epoch: text, not a wrong number
            return "str", moment.isoformat(sep=" ")
        return ("datetime_s" if moment.second or moment.microsecond else "datetime"), moment
    if isinstance(value, date):
        return ("str", value.isoformat()) if value.year < 1900 else ("date", value)
    return ("time_s" if value.second or value.microsecond else "time"), value


def fit(text: str, limit: int = MAX_TEXT) -> str:
    """Cut text to what one cell or comment can hold (Excel counts UTF-16 units)."""
    if len(text) <= limit // 2:
        return text
    return text.encode("utf-16-le")[: limit * 2].decode("utf-16-le", errors="ignore")


_WEB_LINK = re.compile(r"https?://[^\s\x00-\x1f\x7f]+\Z", re.IGNORECASE)


def is_web_link(url: object) -> bool:
    """Only http(s) URLs short enough for Excel (and without spaces) become hyperlinks."""
    return isinstance(url, str) and len(url) <= MAX_URL and _WEB_LINK.match(url) is not None


def display_width(value: object) -> int:
    """Characters a value takes on screen, for column widths."""
    kind, shown = value_kind(value)
    if kind is None:
        return 0
    if kind in DATE_FORMATS:
        return len(DATE_FORMATS[kind]) + 1
    return max((len(line) for line in str(shown).splitlines()), default=0)


try:  # pandas' missing-value markers, without making this module need pandas
    import pandas as _pd

    _NA: object = _pd.NA
    _NAT: object = _pd.NaT
except ImportError:  # pragma: no cover
    _NA = _NAT = object()
