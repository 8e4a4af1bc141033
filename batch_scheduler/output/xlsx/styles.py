"""Cell formats of a streamed workbook: each made once, known by its id, written as styles.xml.

A style is a frozen `Style` (number format, fill, bold, link look, quote prefix, wrapped,
left-aligned); `StyleTable` hands out its id (the `s` attribute of a cell) and the variants
a cell needs beyond what its writer asked for: a date format for a date, the quote prefix
for formula-looking text, wrapping for text longer than its column.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from xml.sax.saxutils import quoteattr

from batch_scheduler.output.xlsx.cells import DATE_FORMATS
from batch_scheduler.output.xlsx.layout import FONT_NAME, FONT_SIZE
from batch_scheduler.output.xlsx.xml_text import NS, XML_HEAD


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


class StyleTable:
    """The workbook's cell formats; id 0 is the default."""

    def __init__(self) -> None:
        self._styles: list[Style] = [Style()]
        self._ids: dict[Style, int] = {Style(): 0}
        self._variants: dict[tuple[int, str], int] = {}  # (style id, date kind/quote/wrap) -> id

    def id_of(self, style: Style) -> int:
        """The id of `style`, made on first use."""
        found = self._ids.get(style)
        if found is None:
            found = self._ids[style] = len(self._styles)
            self._styles.append(style)
        return found

    def is_link(self, style_id: int) -> bool:
        return self._styles[style_id].link

    def wrapped(self, style_id: int | None) -> int:
        """The style `style_id` (None: the default) with its text wrapped."""
        return self.variant(style_id or 0, "wrap")

    def dated(self, style_id: int | None, kind: str) -> int:
        """The style for a date cell: its own number format if it has one, else `kind`'s."""
        if style_id and self._styles[style_id].num:
            return style_id
        return self.variant(style_id or 0, kind)

    def variant(self, style_id: int, kind: str) -> int:
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
            found = self._variants[key] = self.id_of(changed)
        return found

    def xml(self) -> str:
        """The styles.xml part: number formats, fonts, fills and one cell format per id."""
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
            f'{XML_HEAD}<styleSheet xmlns="{NS}">'
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
