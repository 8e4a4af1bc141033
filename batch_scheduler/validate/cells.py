"""The shared machinery of reading cells: a whole column at a time, each distinct value once.

Cells arrive as the reader read them: str, datetime/date/time/timedelta, int/float, bool or
None. Each parser (datetimes, contacts, values) takes one column (a Series) and returns a
`Parsed`: the normalised values, which cells were empty, and an issue code for each cell
that could not be read. Range and length rules are not checked by the parsers: the pandera
schema of each kind does that on the normalised values (book.py, cancel.py).

Speed: columns are worked on whole, as numpy arrays (pandas only where it does the work),
and text is trimmed and looked up once per distinct value: columns repeat a lot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Parsed:
    """One column, normalised. All four Series share the input's index."""

    values: pd.Series  # normalised values; NA where the cell is empty or bad
    missing: pd.Series  # bool: the cell is empty (None, NaN, blank or whitespace-only text)
    codes: pd.Series  # object: an issue code, or None when the cell is fine or empty
    details: pd.Series | None = None  # object: None, or a dict of values for the message


# ---------------------------------------------------------------- cell kinds

MISSING, TEXT, NUMBER, BOOL, DATETIME, DATE, TIME, DELTA, OTHER = range(9)
_KIND_OF_TYPE: dict[type, int] = {
    type(None): MISSING,
    str: TEXT,
    int: NUMBER,
    float: NUMBER,
    np.int64: NUMBER,
    np.float64: NUMBER,
    bool: BOOL,
    np.bool_: BOOL,
    datetime: DATETIME,
    pd.Timestamp: DATETIME,
    date: DATE,
    time: TIME,
    timedelta: DELTA,
    pd.Timedelta: DELTA,
}


@dataclass(frozen=True)
class Cells:
    """A raw column split by what kind of value each cell holds."""

    raw: pd.Series
    kind: pd.Series  # int codes above
    text: pd.Series  # stripped text for TEXT cells, NA elsewhere

    @property
    def missing(self) -> pd.Series:
        return self.kind == MISSING

    def of(self, kind: int) -> pd.Series:
        return self.raw[self.kind == kind]


def cells(raw: pd.Series) -> Cells:
    """Classify each cell; NaN/NaT and blank or whitespace-only text count as missing."""
    raw = raw.astype(object)
    values = raw.to_numpy()
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        kind, text = _text_cells(values)  # the common case
    else:
        kind, text = _mixed_cells(values)
    index = raw.index
    return Cells(raw, pd.Series(kind, index=index), pd.Series(text, index=index, dtype=object))


def _text_cells(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and trimmed text of a column of text and NA, worked out once per distinct value.

    Besides saving work, the text comes back as one object per distinct value: a fresh
    sheet's cells lie scattered in memory, and every later pass over them is faster so.
    """
    codes, uniques = pd.factorize(values)  # NA -> -1, which picks the last entry below
    trimmed = [u.strip() for u in uniques.tolist()]
    kinds = np.array([TEXT if t else MISSING for t in trimmed] + [MISSING], dtype=np.int64)
    texts = np.array([t if t else pd.NA for t in trimmed] + [pd.NA], dtype=object)
    return kinds[codes], texts[codes]


def _mixed_cells(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and trimmed text of a column holding anything, cell by cell."""
    kind = np.fromiter(
        (_KIND_OF_TYPE.get(type(v), OTHER) for v in values), dtype=np.int64, count=len(values)
    )
    kind[pd.isna(values)] = MISSING
    text = np.full(len(values), pd.NA, dtype=object)
    at = np.flatnonzero(kind == TEXT)
    if at.size:
        text[at] = [v.strip() for v in values[at].tolist()]  # no copy when nothing to strip
        blank = at[text[at] == ""]
        kind[blank] = MISSING
        text[blank] = pd.NA
    return kind, text


def is_blank(cell: Any) -> bool:
    """One cell is empty: None, NaN/NaT, or whitespace-only text."""
    return (
        cell is None
        or (not isinstance(cell, str) and bool(pd.isna(cell)))
        or (isinstance(cell, str) and not cell.strip())
    )


# ---------------------------------------------------------------- once per distinct value


def per_distinct(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`fn` applied once per distinct value (columns repeat a lot), spread back in place.
    `values` must hold no NA."""
    codes, uniques = pd.factorize(values)
    answers = fn(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
    return pd.Series(answers[codes], index=values.index, dtype=object)


def each_distinct(values: np.ndarray, fn: Callable[[Any], Any]) -> np.ndarray:
    """`fn` called once per distinct value of `values` (no NA), answers in `values`' order."""
    codes, uniques = pd.factorize(values)
    answers = np.fromiter(map(fn, uniques.tolist()), dtype=object, count=len(uniques))
    return answers[codes]


def distinct_parts(values: np.ndarray, fn: Callable[[Any], tuple[Any, ...]]) -> list[np.ndarray]:
    """`fn` (which answers a tuple) called once per distinct value of `values` (no NA, not
    empty); each part of the answers spread back over `values`, one array per part."""
    codes, uniques = pd.factorize(values)
    parts = zip(*map(fn, uniques.tolist()), strict=True)
    return [np.fromiter(part, dtype=object, count=len(uniques))[codes] for part in parts]


def distinct_rows(text: pd.Series, parse: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """`parse` (text -> one row of answers per value) run once per distinct text value, its
    rows spread back over `text`."""
    codes, uniques = pd.factorize(text)
    answers = parse(pd.Series(uniques, dtype=object))
    out = answers.iloc[codes]
    out.index = text.index
    return out


# ---------------------------------------------------------------- text


def as_text(raw: pd.Series) -> Parsed:
    """Any cell as trimmed text: whole floats lose their ".0", dates become ISO text."""
    return text_of(cells(raw))


def text_of(c: Cells) -> Parsed:
    """as_text of a column already split by kind."""
    values = c.text.to_numpy(copy=True)
    kind = c.kind.to_numpy()
    other = np.flatnonzero((kind != MISSING) & (kind != TEXT))
    if other.size:
        values[other] = [cell_text(v) for v in c.raw.to_numpy()[other].tolist()]
    index = c.raw.index
    return Parsed(pd.Series(values, index=index, dtype=object), c.missing, no_codes(c.raw))


def cell_text(value: Any) -> str:
    """A cell's value as text, for messages: ISO for dates, no ".0" on whole floats."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def numbers(column: pd.Series) -> pd.Series:
    """Text or numbers as floats; NaN where there is no number."""
    return pd.to_numeric(column, errors="coerce")


# ---------------------------------------------------------------- codes and positions


def no_codes(like: pd.Series) -> pd.Series:
    return pd.Series(None, index=like.index, dtype=object)


def codes_where(mask: pd.Series, code: str) -> pd.Series:
    return pd.Series(code_array(mask.to_numpy(dtype=bool), code), index=mask.index, dtype=object)


def code_array(flags: np.ndarray, code: str) -> np.ndarray:
    out = np.full(len(flags), None, dtype=object)
    out[flags] = code
    return out


def positions(mask: pd.Series) -> list[int]:
    """Frame positions where `mask` is true (the frames here always have a RangeIndex)."""
    return [int(p) for p in np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))]


def coded(codes: pd.Series) -> list[tuple[int, str]]:
    """(position, code) for every cell that has a code."""
    return [(p, str(codes.iat[p])) for p in positions(codes.notna())]


def python_values(column: pd.Series) -> list[Any]:
    """A column as plain Python values, every kind of NA as None."""
    values: list[Any] = column.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    return values
