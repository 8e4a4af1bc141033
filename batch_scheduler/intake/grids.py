"""Grids of cells (2-D object arrays, '' for an empty cell) and the columns and headers in them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

_FLOAT_TYPE: Any = float  # compared elementwise with an array of cell types
_STR_TYPE: Any = str


def as_grid(rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """A 2-D object array of `rows`, padded with ''; calamine's rows are already even."""
    if not rows:
        return np.empty((0, 0), dtype=object)
    widths = set(map(len, rows))
    width = max(widths)
    if len(widths) == 1:
        grid = np.empty((len(rows), width), dtype=object)
        grid[:] = rows
        return grid
    grid = np.full((len(rows), width), "", dtype=object)
    for i, row in enumerate(rows):
        grid[i, : len(row)] = row
    return grid


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def blank_rows(grid: np.ndarray) -> np.ndarray:
    """True for rows whose every cell is empty or whitespace; vectorised, exact."""
    if grid.size == 0:
        return np.ones(grid.shape[0], dtype=bool)
    filled = grid != ""  # the grids hold '' for an empty cell, never None
    first = filled.argmax(axis=1)
    firsts = grid[np.arange(grid.shape[0]), first]
    blank = ~filled.any(axis=1)
    # a row whose first non-empty cell is only spaces needs a closer look (rare)
    suspect = np.fromiter(map(is_blank, firsts), dtype=bool, count=len(firsts)) & ~blank
    for i in np.flatnonzero(suspect):
        blank[i] = all(map(is_blank, grid[i]))
    return blank


def kept_columns(header: np.ndarray, body: np.ndarray) -> list[int]:
    """Columns with a header or with any non-blank cell (letters stay the real ones)."""
    kept = []
    for c in range(header.shape[0]):
        if not is_blank(header[c]):
            kept.append(c)
            continue
        column = body[:, c]
        if any(not is_blank(v) for v in column[column != ""]):
            kept.append(c)
    return kept


def header_text(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def unique_keys(headers: Sequence[str], letters: Sequence[str]) -> tuple[str, ...]:
    """Header text, "Column X" when blank, with " (2)", " (3)" added to repeats."""
    keys: list[str] = []
    seen: set[str] = set()
    for text, letter in zip(headers, letters, strict=True):
        base = text or f"Column {letter}"
        key, n = base, 2
        while key in seen:
            key, n = f"{base} ({n})", n + 1
        seen.add(key)
        keys.append(key)
    return tuple(keys)


def cell_values(body: np.ndarray, numbers: bool) -> np.ndarray:
    """The kept cells: '' -> None and (xlsx) whole floats -> int; nothing else changes."""
    body = np.array(body, dtype=object)  # our own copy
    if numbers and body.size:
        kinds = np.fromiter(map(type, body.ravel()), dtype=object, count=body.size)
        kinds = kinds.reshape(body.shape)
        is_float = kinds == _FLOAT_TYPE
        if is_float.any():
            values = body[is_float].astype(float)
            whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
            rows, cols = np.nonzero(is_float)
            body[rows[whole], cols[whole]] = values[whole].astype(np.int64).tolist()
        _share_equal_texts(body, kinds == _STR_TYPE)  # and '' -> None
    else:
        body[body == ""] = None
    return body


def _share_equal_texts(body: np.ndarray, is_text: np.ndarray) -> None:
    """Make equal text cells one object, as pandas' CSV reader does; '' becomes None.

    calamine makes a new object for every text cell, laid out row after row, so a later pass
    down one column misses the CPU cache at every cell (validation makes many such passes:
    ~4x slower than over shared objects). One pass across the rows here fixes that.
    """
    codes, uniques = pd.factorize(body[is_text])
    uniques = uniques.astype(object)
    uniques[uniques == ""] = None
    body[is_text] = uniques[codes]
