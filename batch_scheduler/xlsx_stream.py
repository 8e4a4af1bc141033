"""A small streaming .xlsx writer: rows go straight into the zip, memory stays flat.

Why our own: the results workbook has ~3 million cells at 100,000 rows and a general
library spends most of its time on per-cell bookkeeping (xlsxwriter: 25 s). Here a row is
one string built in a loop and deflated at a fast level. It writes only what we use: text,
numbers, booleans, dates, a few cell styles, hyperlinks, notes (comments), column widths,
a frozen header row and an autofilter.

Text is always an inline string cell: it is never a formula and never re-typed. Text that a
spreadsheet would run as a formula if retyped (it starts with = + - @ tab or CR) also gets
the quotePrefix style, so editing the cell in Excel (F2, Enter) keeps it as text.

Use:

    with atomic_path(out) as temp, StreamBook(temp) as book:
        red, link = book.style(fill="#FFC7CE"), book.link_style()
        sheet = book.add_sheet("Plan", widths=[12, 30, 18], freeze_header=True)
        sheet.append(["name", "link", "when"], styles=[book.style(bold=True)] * 3)
        sheet.append(["=1+1", "https://example.org", datetime(2030, 1, 2, 9, 0)],
                     styles=[red, link, None])       # the "=1+1" stays text
        sheet.add_link(1, 1, "https://example.org")   # 0-based row and column
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import TracebackType
from typing import IO
from xml.sax.saxutils import quoteattr

from batch_scheduler.xlsx_cells import (
    DATE_FORMATS,
    FORMULA_START,
    MAX_COLUMNS,
    MAX_ROWS,
    column_letter,
    fit,
    value_kind,
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
    """One cell format: number format, background fill (#RRGGBB), bold, link look, quote."""

    num: str | None = None
    fill: str | None = None
    bold: bool = False
    link: bool = False
    quote: bool = False


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
        self._variants: dict[tuple[int, str], int] = {}  # (style id, date kind/"quote") -> id

    # ------------------------------------------------------------ styles

    def style(
        self,
        num: str | None = None,
        fill: str | None = None,
        bold: bool = False,
        link: bool = False,
    ) -> int:
        """The id of a cell style, made once; pass it in `styles` to StreamSheet.append."""
        return self._style_id(Style(DATE_FORMATS.get(num or "", num), fill, bold, link))

    def link_style(self) -> int:
        """Blue underlined text, as Excel shows a hyperlink."""
        return self.style(link=True)

    def _style_id(self, style: Style) -> int:
        found = self._style_ids.get(style)
        if found is None:
            found = self._style_ids[style] = len(self._styles)
            self._styles.append(style)
        return found

    def _variant(self, style_id: int, kind: str) -> int:
        """The style `style_id` with a date format (kind in DATE_FORMATS) or quotePrefix."""
        key = (style_id, kind)
        found = self._variants.get(key)
        if found is None:
            base = self._styles[style_id]
            if kind == "quote":
                changed = Style(base.num, base.fill, base.bold, base.link, quote=True)
            else:
                changed = Style(DATE_FORMATS[kind], base.fill, base.bold, base.link, base.quote)
            found = self._variants[key] = self._style_id(changed)
        return found

    # ------------------------------------------------------------ sheets

    def add_sheet(
        self, name: str, *, widths: Sequence[float] = (), freeze_header: bool = False
    ) -> StreamSheet:
        """Start a new sheet (ending the one before); `widths` are in characters."""
        if self._sheets:
            self._sheets[-1].close()
        sheet = StreamSheet(self, len(self._sheets) + 1, name, widths, freeze_header)
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
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.number - 1}" '
            f'hidden="1">{escape_text(_quote_sheet(s.name))}!{s.filter_ref}</definedName>'
            for s in self._sheets
            if s.filter_ref
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
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        return (
            f'{_XML_HEAD}<styleSheet xmlns="{_NS}">'
            f"{num_xml}"
            f'<fonts count="3"><font>{font}</font><font><b/>{font}</font>'
            f'<font><u/><color rgb="FF0563C1"/>{font}</font></fonts>'
            f'<fills count="{2 + len(fills)}"><fill><patternFill patternType="none"/></fill>'
            f'<fill><patternFill patternType="gray125"/></fill>{fill_xml}</fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
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
        rels = [(f"rIdL{i}", "hyperlink", url, True) for i, (_, url) in enumerate(sheet.links, 1)]
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
            for row, col, text, _ in sheet.notes:
                out.write(
                    f'<comment ref="{column_letter(col)}{row + 1}" authorId="0"><text>'
                    f'<t xml:space="preserve">{escape_text(text)}</t></text></comment>'.encode()
                )
            out.write(b"</commentList></comments>")
        blocks = ",".join(str(block + i) for i in range(len(sheet.notes) // 1024 + 1))
        with self._open(f"xl/drawings/vmlDrawing{n}.vml") as out:
            out.write(_VML_HEAD.replace("{blocks}", blocks).encode())
            for i, (row, col, _, height) in enumerate(sheet.notes):
                out.write(_vml_shape(1024 * block + 1 + i, row, col, height).encode())
            out.write(b"</xml>")


class StreamSheet:
    """One worksheet being written; made by StreamBook.add_sheet."""

    def __init__(
        self,
        book: StreamBook,
        number: int,
        name: str,
        widths: Sequence[float],
        freeze_header: bool,
    ) -> None:
        self.book, self.number, self.name = book, number, name
        self.rows = 0  # rows written so far; the next row is this 0-based index
        self.links: list[tuple[str, str]] = []  # (cell ref, url)
        self.notes: list[tuple[int, int, str, int]] = []  # (row, col, text, height in rows)
        self.filter_ref = ""
        self._letters: list[str] = []
        self._pending: list[str] = []
        self._closed = False
        self._out = book._open(f"xl/worksheets/sheet{number}.xml")
        self._out.write(_sheet_head(widths, freeze_header).encode())

    def append(self, values: Sequence[object], styles: Sequence[int | None] | None = None) -> None:
        """Write the next row: values with their natural types, strings always as text.

        `styles[i]` (a StreamBook.style id, or None) formats cell i; a styled None is an
        empty cell that still shows its fill. Dates get a date format added to their style.
        """
        if self.rows >= MAX_ROWS:
            raise ValueError(f"sheet {self.name!r} is full ({MAX_ROWS} rows)")
        if len(values) > len(self._letters):
            if len(values) > MAX_COLUMNS:
                raise ValueError(f"{len(values)} columns do not fit one sheet")
            self._letters = [column_letter(i) for i in range(len(values))]
        number = self.rows + 1
        letters, cells = self._letters, [f'<row r="{number}">']
        for i, value in enumerate(values):
            style = styles[i] if styles is not None else None
            ref = f"{letters[i]}{number}"
            if type(value) is str:  # the common case first
                cells.append(self._text_cell(ref, value, style))
            elif value is None:
                cells.append(f'<c r="{ref}" s="{style}"/>' if style else "")
            else:
                cells.append(self._typed_cell(ref, value, style))
        cells.append("</row>")
        self._pending.append("".join(cells))
        self.rows = number
        if len(self._pending) >= _ROWS_PER_WRITE:
            self._flush()

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
        dated = self.book._variant(style or 0, kind)
        serial = excel_serial(shown)  # type: ignore[arg-type]
        return f'<c r="{ref}" s="{dated}"><v>{_number(serial)}</v></c>'

    def add_link(self, row: int, col: int, url: str) -> None:
        """Make cell (row, col) a hyperlink to `url` (write its text with link_style())."""
        self.links.append((f"{column_letter(col)}{row + 1}", url))

    def add_note(self, row: int, col: int, text: str, *, lines: int = 3) -> None:
        """Attach a note (a comment, shown on hover) to cell (row, col); `lines`: box height."""
        self.notes.append((row, col, fit(text), max(2, min(lines, 16))))

    def autofilter(self, columns: int | None = None, rows: int | None = None) -> None:
        """Filter buttons on the header row over `rows` rows (all written) and `columns`."""
        width = columns if columns is not None else len(self._letters)
        if width:
            last = column_letter(width - 1)
            self.filter_ref = f"$A$1:${last}${max(rows or self.rows, 1)}"

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
            tail.extend(
                f'<hyperlink ref="{ref}" r:id="rIdL{i}"/>'
                for i, (ref, _) in enumerate(self.links, 1)
            )
            tail.append("</hyperlinks>")
        tail.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/>'
        )
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


def _number(value: object) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if math.isfinite(value) else "0"
    return str(value)


def _sheet_head(widths: Sequence[float], freeze_header: bool) -> str:
    view = '<sheetView workbookViewId="0"/>'
    if freeze_header:
        view = (
            '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView>'
        )
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w:.2f}" customWidth="1"/>'
        for i, w in enumerate(widths, 1)
    )
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_NS}" xmlns:r="{_REL_NS}">'
        f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


def _xf(style: Style, num_ids: dict[str, int], fill_ids: dict[str, int]) -> str:
    num = num_ids[style.num] if style.num else 0
    font = 2 if style.link else 1 if style.bold else 0
    fill = fill_ids[style.fill] if style.fill else 0
    applied = (
        (' applyNumberFormat="1"' if num else "")
        + (' applyFont="1"' if font else "")
        + (' applyFill="1"' if fill else "")
        + (' quotePrefix="1"' if style.quote else "")
    )
    return f'<xf numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{applied}/>'


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


def _vml_shape(shape_id: int, row: int, col: int, height: int) -> str:
    """A hidden yellow note box three columns wide and `height` rows tall, beside the cell."""
    top = max(row - 1, 0)
    return (
        f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:0;margin-top:0;width:240pt;height:60pt;'
        'z-index:1;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
        '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        f"<x:Anchor>{col + 1}, 15, {top}, 10, {col + 4}, 15, {top + height}, 4</x:Anchor>"
        f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column>"
        "</x:ClientData></v:shape>"
    )
