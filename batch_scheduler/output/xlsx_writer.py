"""A small streaming .xlsx writer: rows go straight into the zip, memory stays flat.

Why our own: the results workbook has ~3 million cells at 100,000 rows and a general
library spends most of its time on per-cell bookkeeping (xlsxwriter: 25 s). Here a row is
one string built in a loop and deflated at a fast level. It writes only what we use: text,
numbers, booleans, dates, a few cell styles (fill, bold, link, wrapped text), hyperlinks
(to the web or to a cell), notes (comments), column widths, row heights, a frozen header
row, an autofilter and the page setup (xlsx_layout.Page: landscape, one page wide, header
row on every page).

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
        sheet.autofilter()                            # header row to the last row written
        book.add_sheet("Notes").append(["..."])       # starting a sheet ends the one before

Rows and columns are 0-based. The file is complete only after the `with` block ends
cleanly; after an error it is left unfinished for the caller (atomic_path) to delete.
"""

from __future__ import annotations

import contextlib
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from types import TracebackType
from typing import IO
from xml.sax.saxutils import quoteattr

from batch_scheduler.columns import column_letter
from batch_scheduler.output.xlsx_cells import (
    DATE_FORMATS,
    FORMULA_START,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_TEXT,
    fit,
    value_kind,
)
from batch_scheduler.output.xlsx_layout import (
    FONT_NAME,
    FONT_SIZE,
    FOOTER,
    LINE_HEIGHT,
    PAPER_A4,
    Page,
    line_count,
    line_length,
    row_height,
)

COMPRESSION_LEVEL = 1  # deflate: level 1 is ~3x faster than 6 and only ~15% bigger here
_ROWS_PER_WRITE = 512  # rows joined into one string before being deflated

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_EPOCH_DATE = date(1899, 12, 30)

# Characters XML cannot hold or that need escaping, and text that looks like Excel's own
# _xHHHH_ escape (so a literal "_x0041_" is not read back as "A").
_UNSAFE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_text(text: str) -> str:
    """Text safe inside an XML element, with control characters as Excel's _xHHHH_ escapes."""
    return _UNSAFE.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    found = match.group()
    if len(found) > 1:  # "_x0041_" -> "_x005F_x0041_": an escaped underscore, then the rest
        return "_x005F_" + found[1:]
    if found in _ENTITIES:
        return _ENTITIES[found]
    if found >= "\ud800":  # a lone surrogate (no UTF-8) or a non-character (not XML)
        return "\ufffd"
    return f"_x{ord(found):04X}_"


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula if it were typed in."""
    return bool(text) and text[0] in FORMULA_START


def excel_serial(value: datetime | date | time) -> float:
    """Excel's day number (1900 date system) for a naive date, time or datetime."""
    if isinstance(value, datetime):
        delta = (value if value.tzinfo is None else value.replace(tzinfo=None)) - _EXCEL_EPOCH
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86_400
    elif isinstance(value, date):
        serial = float((value - _EXCEL_EPOCH_DATE).days)
    else:
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86_400 + (
            value.microsecond / 86_400e6
        )
    return serial - 1 if serial < 61 else serial  # Excel's phantom 1900-02-29


@dataclass(frozen=True)
class Style:
    """One cell format: number format, fill (#RRGGBB), bold, link look, quote, wrapped text,
    and left-aligned (numbers and dates too)."""

    num: str | None = None
    fill: str | None = None
    bold: bool = False
    link: bool = False
    quote: bool = False
    wrap: bool = False
    left: bool = False


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
        self._styles: list[Style] = [Style()]
        self._style_ids: dict[Style, int] = {Style(): 0}
        self._variants: dict[tuple[int, str], int] = {}  # (style id, date kind/quote/wrap) -> id

    # ------------------------------------------------------------ styles

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
        return self._style_id(Style(num, fill, bold, link, wrap=wrap, left=left))

    def link_style(self) -> int:
        """Blue underlined text, as Excel shows a hyperlink."""
        return self.style(link=True)

    def _style_id(self, style: Style) -> int:
        found = self._style_ids.get(style)
        if found is None:
            found = self._style_ids[style] = len(self._styles)
            self._styles.append(style)
        return found

    def wrapped(self, style_id: int | None) -> int:
        """The style `style_id` (None: the default) with its text wrapped."""
        return self._variant(style_id or 0, "wrap")

    def _dated(self, style_id: int | None, kind: str) -> int:
        """The style for a date cell: its own number format if it has one, else `kind`'s."""
        if style_id and self._styles[style_id].num:
            return style_id
        return self._variant(style_id or 0, kind)

    def _variant(self, style_id: int, kind: str) -> int:
        """The style `style_id` with a date format (kind in DATE_FORMATS), quotePrefix or wrap."""
        key = (style_id, kind)
        found = self._variants.get(key)
        if found is None:
            base = self._styles[style_id]
            if kind == "quote":
                changed = replace(base, quote=True)
            elif kind == "wrap":
                changed = replace(base, wrap=True)
            else:
                changed = replace(base, num=DATE_FORMATS[kind])
            found = self._variants[key] = self._style_id(changed)
        return found

    # ------------------------------------------------------------ sheets

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
        """Start a new sheet (ending the one before); see SheetOptions."""
        if self._sheets:
            self._sheets[-1].close()
        options = SheetOptions(tuple(widths), freeze_header, page, wrap, extent)
        sheet = StreamSheet(self, len(self._sheets) + 1, name, options)
        self._sheets.append(sheet)
        return sheet

    def close(self) -> None:
        """End the last sheet and write the parts that describe the workbook."""
        for sheet in self._sheets:
            sheet.close()
        note_block = 1
        for sheet in self._sheets:
            if sheet.notes:
                self._write_notes(sheet, note_block)
                note_block += len(sheet.notes) // 1024 + 1
            self._write_sheet_rels(sheet)
        self._put("xl/workbook.xml", self._workbook_xml())
        self._put("xl/_rels/workbook.xml.rels", self._workbook_rels())
        self._put("xl/styles.xml", self._styles_xml())
        self._put("_rels/.rels", _rels([("rId1", "officeDocument", "xl/workbook.xml", False)]))
        self._put("[Content_Types].xml", self._content_types())
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

    def _open(self, name: str) -> IO[bytes]:
        return self._zip.open(name, "w", force_zip64=self._big)

    # ------------------------------------------------------------ package parts

    def _workbook_xml(self) -> str:
        sheets = "".join(
            f'<sheet name={quoteattr(s.name)} sheetId="{s.number}" r:id="rId{s.number}"/>'
            for s in self._sheets
        )
        # in Excel's order: by name, then by sheet
        names = "".join(
            f'<definedName name="_xlnm.{name}" localSheetId="{s.number - 1}"{hidden}>'
            f"{escape_text(_quote_sheet(s.name))}!{ref}</definedName>"
            for name, hidden, ref_of in _SHEET_NAMES
            for s in self._sheets
            if (ref := ref_of(s))
        )
        return (
            f'{_XML_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets>"
            f"{f'<definedNames>{names}</definedNames>' if names else ''}</workbook>"
        )

    def _workbook_rels(self) -> str:
        rels = [
            (f"rId{s.number}", "worksheet", f"worksheets/sheet{s.number}.xml", False)
            for s in self._sheets
        ]
        rels.append((f"rId{len(self._sheets) + 1}", "styles", "styles.xml", False))
        return _rels(rels)

    def _styles_xml(self) -> str:
        formats = sorted({s.num for s in self._styles if s.num})
        num_ids = {num: 164 + i for i, num in enumerate(formats)}
        fills = sorted({s.fill for s in self._styles if s.fill})
        fill_ids = {fill: 2 + i for i, fill in enumerate(fills)}
        num_xml = "".join(
            f'<numFmt numFmtId="{num_ids[n]}" formatCode={quoteattr(n)}/>' for n in formats
        )
        if formats:
            num_xml = f'<numFmts count="{len(formats)}">{num_xml}</numFmts>'
        fill_xml = "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{f.lstrip("#").upper()}"/>'
            '<bgColor indexed="64"/></patternFill></fill>'
            for f in fills
        )
        xfs = "".join(_xf(s, num_ids, fill_ids) for s in self._styles)
        font = f'<sz val="{FONT_SIZE}"/><name val="{FONT_NAME}"/><family val="2"/>'
        return (
            f'{_XML_HEAD}<styleSheet xmlns="{_NS}">'
            f"{num_xml}"
            f'<fonts count="3"><font>{font}</font><font><b/>{font}</font>'
            f'<font><u/><color rgb="FF0563C1"/>{font}</font></fonts>'
            f'<fills count="{2 + len(fills)}"><fill><patternFill patternType="none"/></fill>'
            f'<fill><patternFill patternType="gray125"/></fill>{fill_xml}</fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0">'
            '<alignment vertical="top"/></xf>'
            f'</cellStyleXfs><cellXfs count="{len(self._styles)}">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )

    def _content_types(self) -> str:
        main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        parts = [("/xl/workbook.xml", f"{main}.sheet.main+xml")]
        parts.append(("/xl/styles.xml", f"{main}.styles+xml"))
        for s in self._sheets:
            parts.append((f"/xl/worksheets/sheet{s.number}.xml", f"{main}.worksheet+xml"))
            if s.notes:
                parts.append((f"/xl/comments{s.number}.xml", f"{main}.comments+xml"))
        overrides = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in parts)
        return (
            f"{_XML_HEAD}"
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="vml" '
            'ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
            f"{overrides}</Types>"
        )

    def _write_sheet_rels(self, sheet: StreamSheet) -> None:
        urls = [url for _, url, _ in sheet.links if url is not None]
        rels = [(f"rIdL{i}", "hyperlink", url, True) for i, url in enumerate(urls, 1)]
        if sheet.notes:
            n = sheet.number
            rels.append(("rIdC1", "comments", f"../comments{n}.xml", False))
            rels.append(("rIdV1", "vmlDrawing", f"../drawings/vmlDrawing{n}.vml", False))
        if rels:
            self._put(f"xl/worksheets/_rels/sheet{sheet.number}.xml.rels", _rels(rels))

    def _write_notes(self, sheet: StreamSheet, block: int) -> None:
        """The comments part (what the note says) and its VML drawing (how Excel shows it)."""
        n = sheet.number
        with self._open(f"xl/comments{n}.xml") as out:
            out.write(
                f'{_XML_HEAD}<comments xmlns="{_NS}"><authors><author>batch_scheduler</author>'
                "</authors><commentList>".encode()
            )
            for row, col, text in sheet.notes:
                out.write(
                    f'<comment ref="{column_letter(col)}{row + 1}" authorId="0"><text><r>'
                    f"{_NOTE_FONT}"
                    f'<t xml:space="preserve">{escape_text(text)}</t></r></text></comment>'.encode()
                )
            out.write(b"</commentList></comments>")
        blocks = ",".join(str(block + i) for i in range(len(sheet.notes) // 1024 + 1))
        with self._open(f"xl/drawings/vmlDrawing{n}.vml") as out:
            out.write(_VML_HEAD.replace("{blocks}", blocks).encode())
            for i, (row, col, text) in enumerate(sheet.notes):
                anchor = _note_anchor(sheet, row, col, text)
                out.write(_vml_shape(1024 * block + 1 + i, row, col, anchor).encode())
            out.write(b"</xml>")


@dataclass(frozen=True)
class SheetOptions:
    """How a sheet looks: `widths` of its first columns in characters; `freeze_header`
    keeps row 1 in view; `page`: how it prints (None: the spreadsheet's defaults); `wrap`:
    text longer than its column (of those given a width) wraps and its row grows to fit,
    unless the row is given its own height; `extent`: (rows, columns) when known before
    the rows are written, so readers that trust it (openpyxl read-only) see every row whole.
    """

    widths: tuple[float, ...] = ()
    freeze_header: bool = False
    page: Page | None = None
    wrap: bool = False
    extent: tuple[int, int] | None = None


class StreamSheet:
    """One worksheet being written; made by StreamBook.add_sheet."""

    def __init__(self, book: StreamBook, number: int, name: str, options: SheetOptions) -> None:
        widths, wrap, page = options.widths, options.wrap, options.page
        self.book, self.number, self.name, self.page = book, number, name, page
        self.rows = 0  # rows written so far (the last one's 1-based number)
        self.links: list[tuple[str, str | None, str | None]] = []  # (cell ref, url, location)
        self.notes: list[tuple[int, int, str]] = []  # (row, col, text)
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
        self._out = book._open(f"xl/worksheets/sheet{number}.xml")
        self._out.write(_sheet_head(options).encode())

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
        if style and self.book._styles[style].link:
            return style, lines
        return self.book.wrapped(style), max(lines, line_count(text, self.widths[col]))

    def _text_cell(self, ref: str, text: str, style: int | None) -> str:
        """An inline string cell (never a formula); quotePrefix if it looks like one."""
        if not text:
            return f'<c r="{ref}" s="{style}"/>' if style else ""
        if len(text) > 16_383:
            text = fit(text)
        if text[0] in FORMULA_START:
            style = self.book._variant(style or 0, "quote")
        s = f' s="{style}"' if style else ""
        space = ' xml:space="preserve"' if text[0] in " \t\n" or text[-1] in " \t\n" else ""
        body = _UNSAFE.sub(_escape_one, text)
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
            return f'<c r="{ref}"{s}><v>{_number(shown)}</v></c>'
        dated = self.book._dated(style, kind)
        serial = excel_serial(shown)  # type: ignore[arg-type]
        return f'<c r="{ref}" s="{dated}"><v>{_number(serial)}</v></c>'

    def add_link(
        self, row: int, col: int, url: str | None = None, *, location: str | None = None
    ) -> None:
        """Make cell (row, col) a hyperlink to a web `url` or to a cell `location` such as
        "'Results'!F14" (write its text with link_style())."""
        if (url is None) == (location is None):
            raise ValueError("a link goes to a url or to a location")
        self.links.append((f"{column_letter(col)}{row + 1}", url, location))

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
        tail = ["</sheetData>"]
        if self.filter_ref:
            tail.append(f'<autoFilter ref="{self.filter_ref.replace("$", "")}"/>')
        if self.links:
            tail.append("<hyperlinks>")
            web = 0  # web links are numbered in the sheet's relationships, in order
            for ref, url, location in self.links:
                web += url is not None
                tail.append(_hyperlink(web, ref, location))
            tail.append("</hyperlinks>")
        tail.append(_page_tail(self.page))
        if self.notes:
            tail.append('<legacyDrawing r:id="rIdV1"/>')
        tail.append("</worksheet>")
        self._out.write("".join(tail).encode())
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


# ---------------------------------------------------------------- XML pieces


def _print_titles(sheet: StreamSheet) -> str:
    rows = sheet.page.header_rows if sheet.page else 0
    return f"$1:${rows}" if rows else ""


# The workbook's names for each sheet: (name, attributes, the sheet's reference or "").
_SHEET_NAMES: tuple[tuple[str, str, Callable[[StreamSheet], str]], ...] = (
    ("_FilterDatabase", ' hidden="1"', lambda s: s.filter_ref),
    ("Print_Area", "", lambda s: s.print_ref),
    ("Print_Titles", "", _print_titles),
)


def _number(value: object) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if math.isfinite(value) else "0"
    return str(value)


def _sheet_head(options: SheetOptions) -> str:
    page, widths = options.page, options.widths
    fit = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if page and page.fit_width else ""
    if options.extent and all(options.extent):
        rows, columns = options.extent
        fit += f'<dimension ref="A1:{column_letter(columns - 1)}{rows}"/>'
    view = '<sheetView workbookViewId="0"/>'
    if options.freeze_header:
        view = (
            '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView>'
        )
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w:.2f}" customWidth="1"/>'
        for i, w in enumerate(widths, 1)
    )
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_NS}" xmlns:r="{_REL_NS}">{fit}'
        f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="{LINE_HEIGHT}"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


def _page_tail(page: Page | None) -> str:
    """Print options, margins, page setup and footer (after the sheet's data)."""
    if page is None:
        return (
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/>'
        )
    grid = '<printOptions gridLines="1"/>' if page.gridlines else ""
    orientation = "landscape" if page.landscape else "portrait"
    fit = ' fitToWidth="1" fitToHeight="0"' if page.fit_width else ""
    return (
        f"{grid}"
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        f'<pageSetup paperSize="{PAPER_A4}" orientation="{orientation}"{fit}/>'
        f"<headerFooter><oddFooter>{escape_text(FOOTER)}</oddFooter></headerFooter>"
    )


def _hyperlink(number: int, ref: str, location: str | None) -> str:
    if location is None:
        return f'<hyperlink ref="{ref}" r:id="rIdL{number}"/>'
    return f"<hyperlink ref={quoteattr(ref)} location={quoteattr(location)}/>"


def _xf(style: Style, num_ids: dict[str, int], fill_ids: dict[str, int]) -> str:
    """A cell format; every cell sits at the top of its row (rows grow for wrapped text)."""
    num = num_ids[style.num] if style.num else 0
    font = 2 if style.link else 1 if style.bold else 0
    fill = fill_ids[style.fill] if style.fill else 0
    applied = (
        (' applyNumberFormat="1"' if num else "")
        + (' applyFont="1"' if font else "")
        + (' applyFill="1"' if fill else "")
        + (' quotePrefix="1"' if style.quote else "")
    )
    align = (' horizontal="left"' if style.left else "") + (' wrapText="1"' if style.wrap else "")
    return (
        f'<xf numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{applied}'
        f' applyAlignment="1"><alignment vertical="top"{align}/></xf>'
    )


def _rels(rels: Sequence[tuple[str, str, str, bool]]) -> str:
    items = "".join(
        f'<Relationship Id="{rid}" Type="{_REL_NS}/{kind}" Target={quoteattr(target)}'
        f"{_EXTERNAL if external else ''}/>"
        for rid, kind, target, external in rels
    )
    return f'{_XML_HEAD}<Relationships xmlns="{_PKG_NS}">{items}</Relationships>'


_EXTERNAL = ' TargetMode="External"'


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{blocks}"/></o:shapelayout>'
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
    'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
    '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


_NOTE_FONT = (
    f'<rPr><sz val="9"/><color indexed="81"/><rFont val="{FONT_NAME}"/><family val="2"/></rPr>'
)
_NOTE_WIDTH = 320  # pixels: about 50 characters of the note's 9 pt text a line
_NOTE_LINE = 16  # pixels a line of that text takes
_PIXELS_PER_CHARACTER = 7  # of a column width (the default font's digit)
_DEFAULT_WIDTH = 64  # pixels of a column without a width
_MAX_NOTE_HEIGHT = 600


def _note_anchor(sheet: StreamSheet, row: int, col: int, text: str) -> str:
    """Where the note's box sits: beside the cell, a fixed width and as tall as its text,
    in Excel's terms (from/to column and row, with pixel offsets into each)."""
    lines = line_count(text, _NOTE_WIDTH / _PIXELS_PER_CHARACTER)
    height = min(_NOTE_LINE * lines + 12, _MAX_NOTE_HEIGHT)
    widths = sheet.widths

    def column_pixels(c: int) -> int:
        return int(widths[c] * _PIXELS_PER_CHARACTER) if c < len(widths) else _DEFAULT_WIDTH

    def row_pixels(r: int) -> int:
        return int(sheet.heights.get(r, LINE_HEIGHT) * 4 / 3)

    right, right_offset = _walk(column_pixels, col + 1, 15 + _NOTE_WIDTH)
    top = max(row - 1, 0)
    bottom, bottom_offset = _walk(row_pixels, top, 10 + height)
    return f"{col + 1}, 15, {top}, 10, {right}, {right_offset}, {bottom}, {bottom_offset}"


def _walk(size: Callable[[int], int], start: int, length: int) -> tuple[int, int]:
    """The (index, offset) `length` pixels on from the start of `start`."""
    index = start
    while length > size(index):
        length -= size(index)
        index += 1
    return index, length


def _vml_shape(shape_id: int, row: int, col: int, anchor: str) -> str:
    """A hidden yellow note box at `anchor` (see _note_anchor), shown on hover."""
    return (
        f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:0;margin-top:0;width:240pt;height:60pt;'
        'z-index:1;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
        '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        f"<x:Anchor>{anchor}</x:Anchor>"
        f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column>"
        "</x:ClientData></v:shape>"
    )
