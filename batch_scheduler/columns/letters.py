"""Excel's column letters: what the reader, the Issues and every workbook we write call a column."""

from __future__ import annotations


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index: 0 -> "A", 25 -> "Z", 26 -> "AA"."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based index of column letters: "A" -> 0, "AA" -> 26 (column_letter's inverse)."""
    index = 0
    for char in letters.upper():
        if not "A" <= char <= "Z":
            raise ValueError(f"not a column letter: {letters!r}")
        index = index * 26 + ord(char) - 64
    if not index:
        raise ValueError("no column letters")
    return index - 1
