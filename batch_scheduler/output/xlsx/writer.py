"""A small streaming .xlsx writer: rows go straight into the zip, memory stays flat.

Why our own: the results workbook has ~3 million cells at 100,000 rows and a general
library spends most of its time on per-cell bookkeeping (xlsxwriter: 25 s). Here a row is
one string built in a loop and deflated at a fast level. It writes only what we use: text,
numbers, booleans, dates, a few cell styles (fill, bold, link, wrapped text), hyperlinks
(to the web or to a cell), notes (comments), column widths, row heights, a frozen header
row, an autofilter and the page setup (layout.Page: landscape, one page wide, header
row on every page). This module streams the rows; the cell formats are styles.py's, the
sheet-level features and the workbook's own parts parts.py's, the notes notes.py's.

Text is always an inline string cell: it is never a formula and never re-typed. Text that a
spreadsheet would run as a formula if retyped (it starts with = + - @ tab or CR) also gets
the quotePrefix style, so editing the cell in Excel (F2, Enter) keeps it as text.

Use:

    with atomic_path(out) as temp, StreamBook(temp) as book:
        red, link = book.style(fill="#FFC7CE"), book.link_style()
        sheet = book.add_sheet("Plan", widths=[12, 30, 18], freeze_header=True, page=Page())
        sheet.append(["name", "link", "when"], styles=[book.style(bold=True)] * 3)
        sheet.append(["=1+1", "https://example.org", datetime(2030, 1, 2, 9, 0)],
                     styles=[red, link, None])       # the "=1+1" stays text
        sheet.append(["skips a row"], row=4, height=30)  # row 5 in Excel, two lines high
        sheet.add_link(1, 1, "https://example.org")   # 0-based row and column
        sheet.add_link(4, 0, location="Plan!A1")      # a link to a cell
        sheet.add_note(1, 0, "What is wrong and what to do.")
        sheet.define_name("link", 0, 1)               # bs_link marks B1, for programs
        sheet.autofilter()                            # header row to the last row written
        book.add_sheet("Notes").append(["..."])       # starting a sheet ends the one before

Rows and columns are 0-based. The file is complete only after the `with` block ends
cleanly; after an error it is left unfinished for the caller (atomic_path) to delete.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from batch_scheduler.columns import column_letter
from batch_scheduler.columns.words import defined_name
from batch_scheduler.output.xlsx.cells import (
    DATE_FORMATS,
    FORMULA_START,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_TEXT,
    fit,
    value_kind,
)
from batch_scheduler.output.xlsx.layout import Page, line_count, line_length, row_height
from batch_scheduler.output.xlsx.notes import blocks_of, write_notes
from batch_scheduler.output.xlsx.parts import (
    SheetOptions,
    content_types,
    package_rels,
    sheet_head,
    sheet_rels,
    sheet_tail,
    workbook_rels,
    workbook_xml,
)
from batch_scheduler.output.xlsx.styles import Style, StyleTable
from batch_scheduler.output.xlsx.xml_text import UNSAFE, escape_one, excel_serial, number_text

COMPRESSION_LEVEL = 1  # deflate: level 1 is ~3x faster than 6 and only ~15% bigger here
_ROWS_PER_WRITE = 512  # rows joined into one string before being deflated
_escape = UNSAFE.sub  # bound once: a text cell's one method call fewer


class StreamBook:
    """An .xlsx file written sheet by sheet, row by row; see the module docstring."""

    def __init__(self, path: Path, *, big: bool = False) -> None:
        """`big`: a sheet may pass 2 GiB uncompressed, so use Zip64 (only then: some readers
        are strict about Zip64, and without it such a sheet fails with RuntimeError)."""
        self._zip = zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL
        )
        self._big = big
        self._sheets: list[StreamSheet] = []
        self.styles = StyleTable()

    def style(
        self,
        num: str | None = None,
        fill: str | None = None,
        bold: bool = False,
        link: bool = False,
        wrap: bool = False,
        left: bool = False,
    ) -> int:
        """The id of a cell style, made once; pass it in `styles` to StreamSheet.append."""
        num = DATE_FORMATS.get(num or "", num)
        return self.styles.id_of(Style(num, fill, bold, link, wrap=wrap, left=left))

    def link_style(self) -> int:
        """Blue underlined text, as Excel shows a hyperlink."""
        return self.style(link=True)

    def wrapped(self, style_id: int | None) -> int:
        """The style `style_id` (None: the default) with its text wrapped."""
        return self.styles.wrapped(style_id)

    def add_sheet(
        self,
        name: str,
        *,
        widths: Sequence[float] = (),
        freeze_header: bool = False,
        page: Page | None = None,
        wrap: bool = False,
        extent: tuple[int, int] | None = None,
    ) -> StreamSheet:
        """Start a new sheet (ending the one before); see parts.SheetOptions."""
        if self._sheets:
            self._sheets[-1].close()
        options = SheetOptions(tuple(widths), freeze_header, page, wrap, extent)
        sheet = StreamSheet(self, len(self._sheets) + 1, name, options)
        self._sheets.append(sheet)
        return sheet

    def open_part(self, name: str) -> IO[bytes]:
        """A part of the package to stream into (a sheet, a note's drawing)."""
        return self._zip.open(name, "w", force_zip64=self._big)

    def close(self) -> None:
        """End the last sheet and write the parts that describe the workbook."""
        for sheet in self._sheets:
            sheet.close()
        note_block = 1
        for sheet in self._sheets:
            if sheet.notes:
                write_notes(self.open_part, sheet, note_block)
                note_block += blocks_of(sheet)
            rels = sheet_rels(sheet)
            if rels:
                self._put(f"xl/worksheets/_rels/sheet{sheet.number}.xml.rels", rels)
        self._put("xl/workbook.xml", workbook_xml(self._sheets))
        self._put("xl/_rels/workbook.xml.rels", workbook_rels(self._sheets))
        self._put("xl/styles.xml", self.styles.xml())
        self._put("_rels/.rels", package_rels())
        self._put("[Content_Types].xml", content_types(self._sheets))
        self._zip.close()

    def discard(self) -> None:
        """Close the file after an error, without finishing it (the caller deletes it).

        Errors while closing are dropped: the error that stopped the writing is the one to see.
        """
        with contextlib.suppress(Exception):
            for sheet in self._sheets:
                sheet.abandon()
            self._zip.close()

    def __enter__(self) -> StreamBook:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()

    def _put(self, name: str, text: str) -> None:
        self._zip.writestr(name, text.encode("utf-8"))


class StreamSheet:
    """One worksheet being written; made by StreamBook.add_sheet."""

    def __init__(self, book: StreamBook, number: int, name: str, options: SheetOptions) -> None:
        widths, wrap, page = options.widths, options.wrap, options.page
        self.book, self.number, self.name, self.page = book, number, name, page
        self.rows = 0  # rows written so far (the last one's 1-based number)
        self.links: list[tuple[str, str | None, str | None]] = []  # (cell ref, url, location)
        self.notes: list[tuple[int, int, str]] = []  # (row, col, text)
        self.names: list[tuple[str, str]] = []  # (defined name, "$M$1"): see define_name
        self.heights: dict[int, float] = {}  # 0-based row -> points, where not the default
        self.widths = list(widths)
        # the longest text that shows on one line in each column; longer text wraps (in
        # the columns given a width: the others never do)
        self._limits = [line_length(w) for w in widths] if wrap else []
        self._limits += [MAX_TEXT] * (MAX_COLUMNS - len(self._limits)) if wrap else []
        self.filter_ref = ""
        self.print_ref = ""
        self._letters: list[str] = []
        self._pending: list[str] = []
        self._closed = False
        self._styles = book.styles
        self._out = book.open_part(f"xl/worksheets/sheet{number}.xml")
        self._out.write(sheet_head(options).encode())

    def append(
        self,
        values: Sequence[object],
        styles: Sequence[int | None] | None = None,
        *,
        row: int | None = None,
        height: float | None = None,
    ) -> None:
        """Write a row: values with their natural types, strings always as text.

        `styles[i]` (a StreamBook.style id, or None) formats cell i; a styled None is an
        empty cell that still shows its fill. Dates get a date format added to their style.
        `row` (0-based) puts the row further down, leaving the rows between empty (rows
        only go down); `height` is in points (None: the default, or as tall as its wrapped
        text in a sheet that wraps).
        """
        number = self.rows + 1 if row is None else row + 1
        if number > MAX_ROWS:
            raise ValueError(f"sheet {self.name!r} is full ({MAX_ROWS} rows)")
        if number <= self.rows:
            raise ValueError(f"row {number} comes after row {self.rows} is written")
        if len(values) > len(self._letters):
            if len(values) > MAX_COLUMNS:
                raise ValueError(f"{len(values)} columns do not fit one sheet")
            self._letters = [column_letter(i) for i in range(len(values))]
        letters, limits, cells, lines = self._letters, self._limits, [""], 1
        for i, value in enumerate(values):
            style = styles[i] if styles is not None else None
            ref = f"{letters[i]}{number}"
            if type(value) is str:  # the common case first
                if limits and (len(value) > limits[i] or "\n" in value):
                    style, lines = self._wrap(value, i, style, lines)
                cells.append(self._text_cell(ref, value, style))
            elif value is None:
                cells.append(f'<c r="{ref}" s="{style}"/>' if style else "")
            else:
                cells.append(self._typed_cell(ref, value, style))
        if values and not cells[-1]:  # the last cell is written even empty, so that readers
            cells[-1] = f'<c r="{letters[len(values) - 1]}{number}"/>'  # see the full row
        if height is None and lines > 1:
            height = row_height(lines)
        if height is None:
            cells[0] = f'<row r="{number}">'
        else:
            self.heights[number - 1] = height
            cells[0] = f'<row r="{number}" ht="{height:g}" customHeight="1">'
        cells.append("</row>")
        self._pending.append("".join(cells))
        self.rows = number
        if len(self._pending) >= _ROWS_PER_WRITE:
            self._flush()

    def _wrap(self, text: str, col: int, style: int | None, lines: int) -> tuple[int | None, int]:
        """A text too long for its column: wrapped (a link excepted: LibreOffice draws a
        link on one line), and the lines its row needs so far."""
        if style and self._styles.is_link(style):
            return style, lines
        return self._styles.wrapped(style), max(lines, line_count(text, self.widths[col]))

    def _text_cell(self, ref: str, text: str, style: int | None) -> str:
        """An inline string cell (never a formula); quotePrefix if it looks like one."""
        if not text:
            return f'<c r="{ref}" s="{style}"/>' if style else ""
        if len(text) > 16_383:
            text = fit(text)
        if text[0] in FORMULA_START:
            style = self._styles.variant(style or 0, "quote")
        s = f' s="{style}"' if style else ""
        space = ' xml:space="preserve"' if text[0] in " \t\n" or text[-1] in " \t\n" else ""
        body = _escape(escape_one, text)
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{body}</t></is></c>'

    def _typed_cell(self, ref: str, value: object, style: int | None) -> str:
        """A cell for anything but a str: number, bool, date, or its text."""
        s = f' s="{style}"' if style else ""
        if type(value) is int:  # the common case first: row numbers, counts
            return f'<c r="{ref}"{s}><v>{value}</v></c>'
        kind, shown = value_kind(value)
        if kind is None:
            return f'<c r="{ref}" s="{style}"/>' if style else ""
        if kind == "str":
            return self._text_cell(ref, str(shown), style)
        if kind == "bool":
            return f'<c r="{ref}"{s} t="b"><v>{int(bool(shown))}</v></c>'
        if kind == "num":
            return f'<c r="{ref}"{s}><v>{number_text(shown)}</v></c>'
        dated = self._styles.dated(style, kind)
        serial = excel_serial(shown)  # type: ignore[arg-type]
        return f'<c r="{ref}" s="{dated}"><v>{number_text(serial)}</v></c>'

    def add_link(
        self, row: int, col: int, url: str | None = None, *, location: str | None = None
    ) -> None:
        """Make cell (row, col) a hyperlink to a web `url` or to a cell `location` such as
        "'Results'!F14" (write its text with link_style())."""
        if (url is None) == (location is None):
            raise ValueError("a link goes to a url or to a location")
        self.links.append((f"{column_letter(col)}{row + 1}", url, location))

    def define_name(self, stable: str, row: int, col: int) -> None:
        """Mark cell (row, col) with the defined name of `stable` (columns.words.defined_name,
        scoped to this sheet): how a program finds the cell labelled `stable` (a column's
        header, a Summary label) whatever language or wording people read there."""
        self.names.append((defined_name(stable), f"${column_letter(col)}${row + 1}"))

    def add_note(self, row: int, col: int, text: str) -> None:
        """Attach a note (a comment, shown on hover) to cell (row, col)."""
        self.notes.append((row, col, fit(text)))

    def autofilter(self, columns: int | None = None, rows: int | None = None) -> None:
        """Filter buttons on the header row over `rows` rows (all written) and `columns`."""
        width = columns if columns is not None else len(self._letters)
        if width:
            last = column_letter(width - 1)
            self.filter_ref = f"$A$1:${last}${max(rows or self.rows, 1)}"

    def print_area(self, columns: int) -> None:
        """Print only the first `columns` columns (of the rows written so far)."""
        self.print_ref = f"$A$1:${column_letter(columns - 1)}${max(self.rows, 1)}"

    def close(self) -> None:
        """End the sheet: the rest of its XML after the rows."""
        if self._closed:
            return
        self._flush()
        self._out.write(sheet_tail(self).encode())
        self._out.close()
        self._closed = True

    def abandon(self) -> None:
        """Stop writing after an error (the file will be discarded)."""
        if not self._closed:
            self._closed = True
            self._out.close()

    def _flush(self) -> None:
        if self._pending:
            self._out.write("".join(self._pending).encode("utf-8"))
            self._pending.clear()
