"""Everything of a streamed workbook but its rows and notes: the sheet-level features and the
parts that tie the package together.

Each sheet's XML is its head (views, frozen header, column widths), its rows (writer.py),
then its tail (filter, hyperlinks, page setup and footer, the notes' drawing). The workbook
parts (workbook.xml with its defined names, the relationships, the content types) are
written last, when every sheet is known.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import quoteattr

from batch_scheduler.columns import column_letter
from batch_scheduler.output.xlsx.layout import FOOTER, LINE_HEIGHT, PAPER_A4, Page
from batch_scheduler.output.xlsx.xml_text import (
    NS,
    REL_NS,
    XML_HEAD,
    escape_text,
    quote_sheet,
    rels_xml,
)

_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"


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


class SheetFacts(Protocol):
    """What the workbook's parts need to know of a finished sheet (StreamSheet is one)."""

    number: int  # 1-based, in the workbook's order
    name: str
    page: Page | None
    links: list[tuple[str, str | None, str | None]]  # (cell ref, url, location)
    notes: list[tuple[int, int, str]]
    filter_ref: str  # "$A$1:$F$20", or "" for no filter
    print_ref: str  # the print area, or "" for all
    names: list[tuple[str, str]]  # our defined names in the sheet: (name, "$M$1")


# ---------------------------------------------------------------- one sheet


def sheet_head(options: SheetOptions) -> str:
    """The sheet's XML up to its first row."""
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
        f'{XML_HEAD}<worksheet xmlns="{NS}" xmlns:r="{REL_NS}">{fit}'
        f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="{LINE_HEIGHT}"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


def sheet_tail(sheet: SheetFacts) -> str:
    """The sheet's XML after its last row."""
    tail = ["</sheetData>"]
    if sheet.filter_ref:
        tail.append(f'<autoFilter ref="{sheet.filter_ref.replace("$", "")}"/>')
    if sheet.links:
        tail.append("<hyperlinks>")
        web = 0  # web links are numbered in the sheet's relationships, in order
        for ref, url, location in sheet.links:
            web += url is not None
            tail.append(_hyperlink(web, ref, location))
        tail.append("</hyperlinks>")
    tail.append(_page_tail(sheet.page))
    if sheet.notes:
        tail.append('<legacyDrawing r:id="rIdV1"/>')
    tail.append("</worksheet>")
    return "".join(tail)


def sheet_rels(sheet: SheetFacts) -> str | None:
    """The sheet's relationships (web links, notes), or None when it has none."""
    urls = [url for _, url, _ in sheet.links if url is not None]
    rels = [(f"rIdL{i}", "hyperlink", url, True) for i, url in enumerate(urls, 1)]
    if sheet.notes:
        n = sheet.number
        rels.append(("rIdC1", "comments", f"../comments{n}.xml", False))
        rels.append(("rIdV1", "vmlDrawing", f"../drawings/vmlDrawing{n}.vml", False))
    return rels_xml(rels) if rels else None


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


# ---------------------------------------------------------------- the workbook


def _print_titles(sheet: SheetFacts) -> str:
    rows = sheet.page.header_rows if sheet.page else 0
    return f"$1:${rows}" if rows else ""


# The workbook's names for each sheet: (name, attributes, the sheet's reference or "").
_SHEET_NAMES: tuple[tuple[str, str, Callable[[SheetFacts], str]], ...] = (
    ("_FilterDatabase", ' hidden="1"', lambda s: s.filter_ref),
    ("Print_Area", "", lambda s: s.print_ref),
    ("Print_Titles", "", _print_titles),
)


def workbook_xml(sheets: Sequence[SheetFacts]) -> str:
    """workbook.xml: the sheets in order, their filter, print area and print titles, and
    our defined names (each scoped to its sheet)."""
    listed = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{s.number}" r:id="rId{s.number}"/>'
        for s in sheets
    )
    found = [
        (f"_xlnm.{name}", s, hidden, ref)
        for name, hidden, ref_of in _SHEET_NAMES
        for s in sheets
        if (ref := ref_of(s))
    ]
    found += [(name, s, "", ref) for s in sheets for name, ref in s.names]
    # in Excel's order: by name, then by sheet
    names = "".join(
        f'<definedName name="{name}" localSheetId="{s.number - 1}"{hidden}>'
        f"{escape_text(quote_sheet(s.name))}!{ref}</definedName>"
        for name, s, hidden, ref in sorted(found, key=lambda n: (n[0].lower(), n[1].number))
    )
    return (
        f'{XML_HEAD}<workbook xmlns="{NS}" xmlns:r="{REL_NS}">'
        f"<bookViews><workbookView/></bookViews><sheets>{listed}</sheets>"
        f"{f'<definedNames>{names}</definedNames>' if names else ''}</workbook>"
    )


def workbook_rels(sheets: Sequence[SheetFacts]) -> str:
    rels = [
        (f"rId{s.number}", "worksheet", f"worksheets/sheet{s.number}.xml", False) for s in sheets
    ]
    rels.append((f"rId{len(sheets) + 1}", "styles", "styles.xml", False))
    return rels_xml(rels)


def package_rels() -> str:
    return rels_xml([("rId1", "officeDocument", "xl/workbook.xml", False)])


def content_types(sheets: Sequence[SheetFacts]) -> str:
    parts = [("/xl/workbook.xml", f"{_SPREADSHEET}.sheet.main+xml")]
    parts.append(("/xl/styles.xml", f"{_SPREADSHEET}.styles+xml"))
    for s in sheets:
        parts.append((f"/xl/worksheets/sheet{s.number}.xml", f"{_SPREADSHEET}.worksheet+xml"))
        if s.notes:
            parts.append((f"/xl/comments{s.number}.xml", f"{_SPREADSHEET}.comments+xml"))
    overrides = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in parts)
    return (
        f"{XML_HEAD}"
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="vml" '
        'ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
        f"{overrides}</Types>"
    )
