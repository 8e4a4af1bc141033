"""Text another program decoded wrongly before it reached us: "SiÃ¢n" for "Siân".

UTF-8 read as Latin-1 or Windows-1252 (cp1252) turns each accented letter into two or three
odd characters: the lead byte of the letter's UTF-8 (0xC2-0xF4, shown as Â..ô) followed by
continuation bytes (0x80-0xBF, shown as €, ›, ¢, © ...). ftfy tells real mojibake from
genuine text that merely has such letters far better than a hand-made rule would, but costs
~5 µs a value; only text holding such a pair is worth asking it about, and genuine names
almost never do (Siân, Zoë, Łukasz, Ó Súilleabháin, Nguyễn have none).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache


def _continuation_chars() -> str:
    """Bytes 0x80-0xBF as Latin-1 and as cp1252 show them (cp1252 leaves five undefined)."""
    chars = set()
    for byte in range(0x80, 0xC0):
        chars.add(bytes([byte]).decode("latin-1"))
        chars.add(bytes([byte]).decode("cp1252", errors="ignore"))
    return "".join(sorted(chars - {""}))


_SUSPECT = re.compile(f"[\u00c2-\u00f4][{re.escape(_continuation_chars())}]")


def intended(text: str) -> str | None:
    """What `text` most likely said before a wrong decoding garbled it; None when it does not
    look garbled."""
    if text.isascii() or _SUSPECT.search(text) is None:
        return None
    fixed = _fix_encoding()(text)
    return fixed if fixed != text else None


@cache
def _fix_encoding() -> Callable[[str], str]:
    """ftfy, imported on first need: it takes ~60 ms to import, and most sheets never need it."""
    import ftfy

    return ftfy.fix_encoding
