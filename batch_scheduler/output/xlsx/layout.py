"""How our sheets look on screen and on paper: column widths, wrapped rows, page setup.

A spreadsheet does not measure text for the file's writer: LibreOffice prints a wrapped
cell in a row of default height with its lines over the next rows', and a column sized by
guess cuts its text. So widths and row heights are estimated here from the text, a little
on the safe side. The font is Arial 10: every office machine has it, and LibreOffice draws
it with Liberation Sans, which has the same metrics, so a sheet prints the same on both
(Calibri without Microsoft's fonts becomes a much wider DejaVu Sans, and nothing fits).

Every sheet prints landscape on A4, one page wide, with its header row repeated on each
page (`Page`); both writers take it: writer.py (results, report) and xlsxwriter
(`apply_page`: templates and plan).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

FONT_NAME, FONT_SIZE = "Arial", 10
LINE_HEIGHT = 12.75  # points per line of Arial 10 (its default row height)
MIN_WIDTH = 6.0  # characters
MAX_WIDTH = 24.0  # characters: longer text with spaces wraps instead of widening the column
WORD_WIDTH = 42.0  # a column of long single words (emails, 36-character ids) grows to this
_FONT_SLACK = 1.1  # one-line text is up to this much wider than as many digits (the unit)
_PROSE = 0.85  # wrapped prose averages this much of a width unit a character
_PADDING = 2.0  # characters of room beside the text
_MAX_LINES = 40  # a row never grows past this many lines (Excel's limit is 409 pt)
PAPER_A4 = 9
_LONGEST = 80.0  # the widest any column grows to fill its page
_PAGE_UNITS = {True: 140.0, False: 92.0}  # width units on A4 at 100 %: landscape, portrait


@dataclass(frozen=True)
class Page:
    """How a sheet prints: orientation, one page wide, header rows repeated, gridlines."""

    landscape: bool = True
    fit_width: bool = True
    header_rows: int = 1  # rows printed at the top of every page (0: none)
    gridlines: bool = True


RESULTS_PAGE = Page()
FOOTER = "&L&A&RPage &P of &N"  # the sheet's name, and "Page 2 of 5"


def column_width(widest: int, *, cap: float = MAX_WIDTH) -> float:
    """A column's width (in characters) for text at most `widest` characters wide."""
    return min(max(widest * _FONT_SLACK + _PADDING, MIN_WIDTH), cap)


def column_widths(widest: Sequence[int], caps: Sequence[float], page: Page) -> list[float]:
    """Each column's width for its widest text (in characters), capped; then grown back
    toward the uncapped width while the sheet is narrower than its printed page, so that
    text wraps only when it must."""
    capped = [column_width(w, cap=cap) for w, cap in zip(widest, caps, strict=True)]
    natural = [column_width(w, cap=_LONGEST) for w in widest]
    return _spread(capped, natural, page)


def _spread(widths: Sequence[float], natural: Sequence[float], page: Page) -> list[float]:
    room = (_PAGE_UNITS[page.landscape] if page.fit_width else 0) - sum(widths)
    short = [max(n - w, 0.0) for w, n in zip(widths, natural, strict=True)]
    wanted = sum(short)
    if room <= 0 or not wanted:
        return list(widths)
    share = min(room / wanted, 1.0)
    return [w + s * share for w, s in zip(widths, short, strict=True)]


def column_cap(values: Iterable[object]) -> float:
    """How wide a column may grow: text that wraps at spaces stays narrow; a column of long
    single words (emails, ids) gets room to show them whole rather than cut mid-word."""
    long = (v for v in values if isinstance(v, str) and len(v) * _FONT_SLACK + _PADDING > MAX_WIDTH)
    return MAX_WIDTH if any(" " in text.strip() for text in long) else WORD_WIDTH


def line_length(width: float) -> int:
    """The most characters that show on one line in a column `width` characters wide."""
    return max(int((width - _PADDING) / _FONT_SLACK), 1)


def line_count(text: str, width: float) -> int:
    """Lines `text` takes wrapped in a column `width` characters wide (words kept whole
    where they fit, long ones broken, as Excel and LibreOffice do)."""
    per_line = max(int((width - _PADDING) / _PROSE), 1)
    lines = 0
    for paragraph in text.split("\n"):
        lines += _wrapped(paragraph, per_line) if len(paragraph) > per_line else 1
    if lines == 1 and len(text) > line_length(width):
        lines = 2  # too wide for one line by the safe measure: give it room for two
    return min(lines, _MAX_LINES)


def _wrapped(paragraph: str, per_line: int) -> int:
    """Lines of a greedy word wrap: words kept whole where they fit, longer ones broken."""
    lines, used = 1, -1  # used: characters on the current line (-1: none yet)
    for word in paragraph.split(" "):
        size = len(word)
        if used >= 0 and used + 1 + size <= per_line:
            used += 1 + size
            continue
        if used >= 0:
            lines += 1
        extra, used = divmod(size, per_line)
        if extra and not used:
            extra, used = extra - 1, per_line
        lines += extra
    return lines


def row_height(lines: int) -> float:
    """Points for a row showing `lines` lines of text."""
    return LINE_HEIGHT * lines + (3.0 if lines > 1 else 0.0)


def widest(values: Iterable[str]) -> int:
    """The longest line among `values`, in characters."""
    return max((len(line) for v in values for line in v.splitlines()), default=0)


def apply_page(sheet: Worksheet, page: Page = RESULTS_PAGE) -> None:
    """Give an xlsxwriter sheet our page setup (see `Page`)."""
    sheet.set_paper(PAPER_A4)
    if page.landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    if page.fit_width:
        sheet.fit_to_pages(1, 0)
    if page.header_rows:
        sheet.repeat_rows(0, page.header_rows - 1)
    if page.gridlines:
        sheet.hide_gridlines(0)  # 0: shown on screen and printed
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_footer(FOOTER)
