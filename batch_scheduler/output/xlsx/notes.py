"""Notes on cells (comments, shown on hover): what each says, and where its box is drawn.

A sheet's notes take two parts: comments{n}.xml (the text) and a VML drawing (the yellow
box beside each cell, hidden until hovered). Excel numbers the drawing's shapes in blocks of
1024 per sheet, the blocks counted across the workbook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import IO, Protocol

from batch_scheduler.columns import column_letter
from batch_scheduler.output.xlsx.layout import FONT_NAME, LINE_HEIGHT, line_count
from batch_scheduler.output.xlsx.xml_text import NS, XML_HEAD, escape_text

SHAPES_PER_BLOCK = 1024

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


class NotedSheet(Protocol):
    """What a sheet tells about itself for its notes (StreamSheet is one)."""

    number: int
    notes: list[tuple[int, int, str]]  # (row, col, text), 0-based
    widths: list[float]  # characters, of the first columns
    heights: dict[int, float]  # points, of the rows not of the default height


def blocks_of(sheet: NotedSheet) -> int:
    """How many blocks of shape ids the sheet's notes take."""
    return len(sheet.notes) // SHAPES_PER_BLOCK + 1


def write_notes(open_part: Callable[[str], IO[bytes]], sheet: NotedSheet, block: int) -> None:
    """The comments part (what the note says) and its VML drawing (how Excel shows it);
    the sheet's shape ids start at `block`."""
    n = sheet.number
    with open_part(f"xl/comments{n}.xml") as out:
        out.write(
            f'{XML_HEAD}<comments xmlns="{NS}"><authors><author>batch_scheduler</author>'
            "</authors><commentList>".encode()
        )
        for row, col, text in sheet.notes:
            out.write(
                f'<comment ref="{column_letter(col)}{row + 1}" authorId="0"><text><r>'
                f"{_NOTE_FONT}"
                f'<t xml:space="preserve">{escape_text(text)}</t></r></text></comment>'.encode()
            )
        out.write(b"</commentList></comments>")
    blocks = ",".join(str(block + i) for i in range(blocks_of(sheet)))
    with open_part(f"xl/drawings/vmlDrawing{n}.vml") as out:
        out.write(_VML_HEAD.replace("{blocks}", blocks).encode())
        for i, (row, col, text) in enumerate(sheet.notes):
            anchor = _note_anchor(sheet.widths, sheet.heights, row, col, text)
            out.write(_vml_shape(SHAPES_PER_BLOCK * block + 1 + i, row, col, anchor).encode())
        out.write(b"</xml>")


def _note_anchor(
    widths: Sequence[float], heights: Mapping[int, float], row: int, col: int, text: str
) -> str:
    """Where the note's box sits: beside the cell, a fixed width and as tall as its text,
    in Excel's terms (from/to column and row, with pixel offsets into each)."""
    lines = line_count(text, _NOTE_WIDTH / _PIXELS_PER_CHARACTER)
    height = min(_NOTE_LINE * lines + 12, _MAX_NOTE_HEIGHT)

    def column_pixels(c: int) -> int:
        return int(widths[c] * _PIXELS_PER_CHARACTER) if c < len(widths) else _DEFAULT_WIDTH

    def row_pixels(r: int) -> int:
        return int(heights.get(r, LINE_HEIGHT) * 4 / 3)

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
