"""The other kinds of value: whole numbers, yes/no answers, choices, free text, web addresses,
appointment ids and departments.

Each parser takes one column and returns a `cells.Parsed`; each distinct text is looked at
once. Welsh answers and dropdown values (i18n/welsh_input.py) are read in either language
mode, looked for only in the texts the English words did not match.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from batch_scheduler.columns import fold_label
from batch_scheduler.i18n import _
from batch_scheduler.i18n.welsh_input import welsh_answer
from batch_scheduler.validate import mojibake
from batch_scheduler.validate.cells import (
    BOOL,
    NUMBER,
    TEXT,
    Cells,
    Parsed,
    as_text,
    cells,
    codes_where,
    each_distinct,
    no_codes,
    numbers,
    per_distinct,
    text_of,
)

# ---------------------------------------------------------------- numbers, yes/no, choices

_INTEGER_TEXT = re.compile(r"^[+-]?\d+(?:\.0*)?(?:\s*(?:m|mins?|minutes?))?$", re.IGNORECASE)


def parse_integer(raw: pd.Series) -> Parsed:
    """Whole numbers: 30, 30.0, "30", " 30 mins "; 30.5, "thirty" and booleans are invalid."""
    return _integers(cells(raw))


def _integers(c: Cells) -> Parsed:
    out = pd.Series(pd.NA, index=c.raw.index, dtype="Float64")
    number_cells = c.of(NUMBER).astype(float)
    if len(number_cells):
        out[number_cells.index] = number_cells.where(number_cells.mod(1) == 0)
    texts = c.text[c.kind == TEXT]
    if len(texts):
        codes, uniques = pd.factorize(texts)
        whole = numbers(_integer_text(pd.Series(uniques, dtype=object)))
        out[texts.index] = whole.to_numpy(dtype=float)[codes]
    ints = out.where(out.abs() < 2**53).round().astype("Int64")
    bad = ~c.missing & ints.isna()
    return Parsed(ints, c.missing, codes_where(bad, "invalid-integer"))


def _integer_text(text: pd.Series) -> pd.Series:
    good = text.str.match(_INTEGER_TEXT).astype(bool)
    return text.str.extract(r"^([+-]?\d+)", expand=False).where(good)


TRUE_WORDS = ("yes", "y", "true", "t", "1")
FALSE_WORDS = ("no", "n", "false", "f", "0")
_BOOL_WORDS = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}


def answer(text: str) -> bool | None:
    """A yes/no answer in English (yes, n, true, 0...) or Welsh (Ie, Nac oes, Do, Gwir...),
    in any case; None for anything else."""
    english = _BOOL_WORDS.get(text.lower())
    return english if english is not None else welsh_answer(text)


def parse_boolean(raw: pd.Series) -> Parsed:
    """yes/no/true/false/y/n/1/0 and the Welsh answers in any case, real booleans, and the
    numbers 1 and 0."""
    c = cells(raw)
    kind, values = c.kind.to_numpy(), c.raw.to_numpy()
    answers = np.full(len(values), None, dtype=object)
    for code, read in ((BOOL, bool), (NUMBER, lambda v: _NUMBER_WORDS.get(float(v)))):
        at = np.flatnonzero(kind == code)
        if at.size:
            answers[at] = [read(v) for v in values[at].tolist()]
    at = np.flatnonzero(kind == TEXT)
    if at.size:
        answers[at] = each_distinct(c.text.to_numpy()[at], answer)
    out = pd.Series(pd.array(answers, dtype="boolean"), index=raw.index)
    bad = ~c.missing & out.isna()
    return Parsed(out, c.missing, codes_where(bad, "invalid-boolean"))


_NUMBER_WORDS = {1.0: True, 0.0: False}


def parse_choice(raw: pd.Series, words: Mapping[str, str] | None = None) -> Parsed:
    """Enum text: trimmed and lower-cased (the schema checks it is one of the choices); a
    text that lower-cased is one of `words` (e.g. Welsh "isel") reads as its choice ("low")."""
    text = as_text(raw)
    lowered = text.values.to_numpy(copy=True)
    at = np.flatnonzero(~text.missing.to_numpy())
    other = words or {}
    if at.size:
        lowered[at] = each_distinct(lowered[at], lambda t: other.get(t.lower(), t.lower()))
    return Parsed(pd.Series(lowered, index=raw.index, dtype=object), text.missing, text.codes)


# ---------------------------------------------------------------- free text


def parse_free_text(raw: pd.Series) -> Parsed:
    """Text people type (names, languages, reasons) as trimmed text; text that looks garbled
    by another program's wrong decoding ("SiÃ¢n") gets code mojibake (a warning) and, as the
    message value "intended", what it most likely said. Ids and URLs do not come here."""
    text = as_text(raw)
    n = len(raw)
    codes, details = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    at = np.flatnonzero(~text.missing.to_numpy())
    if at.size:
        intended = each_distinct(text.values.to_numpy()[at], mojibake.intended)
        garbled = pd.notna(intended)
        codes[at[garbled]] = "mojibake"
        details[at[garbled]] = [{"intended": t} for t in intended[garbled].tolist()]
    index = raw.index
    return Parsed(
        text.values,
        text.missing,
        pd.Series(codes, index=index, dtype=object),
        pd.Series(details, index=index, dtype=object),
    )


# ---------------------------------------------------------------- urls, ids, departments


def url_problem(text: str) -> str | None:
    """None for an https URL with a host; else insecure-url or invalid-url."""
    if any(ch.isspace() for ch in text):
        return "invalid-url"
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return "invalid-url"
    if not host or parts.scheme.lower() not in ("http", "https"):
        return "invalid-url"
    return "insecure-url" if parts.scheme.lower() == "http" else None


def parse_url(raw: pd.Series) -> Parsed:
    """Redirect addresses: https only."""
    text = as_text(raw)
    present = text.values[~text.missing]
    problems = {u: url_problem(u) for u in present.unique()}
    codes = no_codes(raw)
    codes[present.index] = present.map(problems)
    values = text.values.where(codes.isna())
    return Parsed(values, text.missing, codes)


_UUID = re.compile(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}")


def parse_uuid(raw: pd.Series) -> Parsed:
    """Appointment ids: a UUID in any case -> lower case."""
    text = as_text(raw)
    lowered = text.values.copy()
    present = text.values[~text.missing]
    if len(present):
        lowered[present.index] = per_distinct(present, lambda u: u.str.lower())
    ok = lowered.str.fullmatch(_UUID).fillna(False).astype(bool)
    bad = ~text.missing & ~ok
    return Parsed(lowered.where(ok), text.missing, codes_where(bad, "invalid-appointment-id"))


def closest_departments(text: str, departments: Mapping[str, int], most: int = 3) -> list[str]:
    """The configured department names most like `text` (after folding), best first."""
    by_folded = {fold_label(name): name for name in departments}
    close = difflib.get_close_matches(fold_label(text), list(by_folded), n=most, cutoff=0.6)
    return [by_folded[c] for c in close]


def parse_department(raw: pd.Series, departments: Mapping[str, int]) -> Parsed:
    """An id (whole number) or a configured name -> the department id."""
    c = cells(raw)
    ids, text = _integers(c), text_of(c)
    by_name = {fold_label(k): v for k, v in departments.items()}
    named = text.values[ids.codes.notna()]
    floats = ids.values.astype("Float64")
    if len(named):
        found = each_distinct(named.to_numpy(), lambda n: by_name.get(fold_label(n)))
        floats.loc[named.index] = pd.array(found, dtype="Float64")
    values = floats.astype("Int64")
    if departments:
        known = set(departments.values())
        values = values.where(values.isin(known) | values.isna())
    bad = ~text.missing & values.isna()
    return Parsed(values, text.missing, codes_where(bad, "unknown-department"))


_LISTED_DEPARTMENTS = 10  # an unknown department's message lists them all up to this many


def unknown_department(cell: str, departments: Mapping[str, int]) -> dict[str, str]:
    """unknown-department's values: the known names closest to `cell`, else all of them when
    they are few; nothing to list when no names are set up."""
    if not departments:
        return {"known": " " + _("No department names are set up.")}

    def listed(names: Iterable[str]) -> str:
        return ", ".join(f"{name} ({departments[name]})" for name in names)

    close = closest_departments(cell, departments)
    if len(close) == 1:
        known = _("The closest known name is {names}.").format(names=listed(close))
    elif close:
        known = _("The closest known names are {names}.").format(names=listed(close))
    elif len(departments) <= _LISTED_DEPARTMENTS:
        known = _("Known departments: {names}.").format(names=listed(departments))
    else:
        none = _("None of the {count} names set up is close.")  # more than ten
        known = none.format(count=len(departments))
    return {"known": " " + known, "or_name": " " + _("or a known name")}
