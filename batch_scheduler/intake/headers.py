"""Headers -> fields: which row holds the headers, which column is which field, and why a
sheet cannot be used when a required column is missing or two columns mean the same field.

A sheet refused for a missing column says first what is missing and the likely fix (a
misspelt header, the other kind of sheet), then the headers it found, and only last the
full list of headers accepted. Headers in English or Welsh are matched alike, in either
language mode; the messages are in the current language, and name each field by its header
in that language.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence

from batch_scheduler.columns import Field, fields_for, fold_label, results_start
from batch_scheduler.errors import InputError
from batch_scheduler.i18n import N_, _, current_language, pgettext
from batch_scheduler.issues import make_issue, unknown_column
from batch_scheduler.models import Issue, SheetKind

# The columns a kind cannot do without: each requirement is met by any one of its
# alternatives, an alternative by all of its fields. The reader alone checks them.
_REQUIRED: dict[SheetKind, tuple[tuple[tuple[str, ...], ...], ...]] = {
    SheetKind.BOOK: (
        (("claimant_name",),),
        (("appointment_at",), ("appointment_date", "appointment_time")),
    ),
    SheetKind.CANCEL: ((("appointment_id",), ("reference",)),),
    SheetKind.CLAIMANTS: ((("claimant_name",),),),
    SheetKind.SLOTS: ((("appointment_at",), ("appointment_date", "appointment_time")),),
}
_OTHER_KIND = {SheetKind.BOOK: SheetKind.CANCEL, SheetKind.CANCEL: SheetKind.BOOK}
_KIND_HINT = {
    SheetKind.CANCEL: N_(
        'It looks like a cancel sheet: use "cancel", or "validate --kind cancel".'
    ),
    SheetKind.BOOK: N_(
        'It looks like a book sheet: use "book", or "validate" without --kind cancel.'
    ),
}
HEADER_SEARCH = 10  # rows with text in which the header row is looked for
_SHOWN_HEADERS = 12
_SHOWN_CHARACTERS = 40
_CLOSE = 0.8  # difflib ratio of folded names for "did you mean"
_DATA_LIKE = re.compile(r"@|\d{4}|\d{1,2}[/.:-]\d{1,2}")  # an email, a year or phone, a date


def alias_index(fields: tuple[Field, ...]) -> dict[str, str]:
    """Folded header -> canonical field name, over names, headers and aliases in English and
    Welsh (Field.spellings)."""
    index: dict[str, str] = {}
    for f in fields:
        for spelling in f.spellings():
            index.setdefault(fold_label(spelling), f.name)
    return index


def header_row(rows: Sequence[Sequence[str]], kind: SheetKind) -> int:
    """Which of the first rows with text holds the headers: the first that names every
    required column (a title or notes may sit above the headers), else the first."""
    index = alias_index(fields_for(kind))
    for i, texts in enumerate(rows[:HEADER_SEARCH]):
        found = {index[f] for f in map(fold_label, texts) if f in index}
        if not _unmet(kind, found):
            return i
    return 0


def match_fields(
    where: str,
    kind: SheetKind,
    fields: tuple[Field, ...],
    headers: Sequence[str],
    keys: Sequence[str],
    letters: Sequence[str],
    *,
    row: int = 1,
    advice: str = "",
    labels: Sequence[str] | None = None,
) -> tuple[dict[str, str], list[Issue]]:
    """Canonical field -> key; unknown-column warnings; InputError for clashes and gaps.

    `row` is the header row as Excel numbers it; `advice` is added when a column is missing
    (why the file may read that way). `labels`: what each column is matched by, when not
    its header: the stable name a workbook of ours marks it with (a defined name), which
    holds whatever the header's language or wording."""
    labels = headers if labels is None else labels
    index = alias_index(fields)
    folded = [fold_label(h) for h in labels]
    results_from = results_start(labels) if kind == SheetKind.CANCEL else None
    order = list(range(len(headers)))
    if results_from is not None:  # our own results workbook: its own columns win
        order = order[results_from:] + order[:results_from]
    found: dict[str, int] = {}
    issues: list[Issue] = []
    for i in order:
        name = index.get(folded[i]) if folded[i] else None
        if name is None:
            if results_from is None:
                issues.append(_unknown_column(letters[i], headers[i], _nearest(folded[i], fields)))
        elif name not in found:
            found[name] = i
        elif results_from is None:
            raise InputError(_clash(where, fields, name, found[name], i, headers, letters))
    unmet = _unmet(kind, found)
    if unmet:
        unknown = [i for i in range(len(headers)) if folded[i] and folded[i] not in index]
        raise InputError(
            _missing(where, kind, fields, unmet, headers, letters, unknown, row, advice)
        )
    return {name: keys[i] for name, i in sorted(found.items(), key=lambda kv: kv[1])}, issues


def _unmet(kind: SheetKind, found: Collection[str]) -> list[tuple[tuple[str, ...], ...]]:
    return [
        requirement
        for requirement in _REQUIRED[kind]
        if not any(all(name in found for name in option) for option in requirement)
    ]


def _unknown_column(letter: str, header: str, nearest: str | None) -> Issue:
    """Issue.where already names the column; the message says what it means for the run."""
    values = unknown_column(header, nearest)
    return make_issue("unknown-column", column=letter, header=header or None, **values)


def _clash(
    where: str,
    fields: tuple[Field, ...],
    name: str,
    first: int,
    second: int,
    headers: Sequence[str],
    letters: Sequence[str],
) -> str:
    field = next(f for f in fields if f.name == name)
    return _(
        '{where}: columns {first} ("{first_header}") and {second} ("{second_header}") both '
        'mean "{header}" ({name}); keep one and rename or delete the other.'
    ).format(
        where=where,
        first=letters[first],
        first_header=headers[first],
        second=letters[second],
        second_header=headers[second],
        header=field.shown_header(),
        name=name,
    )


# ---------------------------------------------------------------- a required column missing


def _missing(
    where: str,
    kind: SheetKind,
    fields: tuple[Field, ...],
    unmet: list[tuple[tuple[str, ...], ...]],
    headers: Sequence[str],
    letters: Sequence[str],
    unknown: list[int],
    row: int,
    advice: str,
) -> str:
    """What is missing; did you mean; the other kind of sheet; the headers found; what to
    do; and last, every header accepted for what is missing."""
    by_name = {f.name: f for f in fields}
    wanted = _("; and ").join(_requirement_text(r, by_name) for r in unmet)
    if len(unmet) == 1:
        parts = [_("{where} is missing a required column: {wanted}.")]
    else:
        parts = [_("{where} is missing required columns: {wanted}.")]
    parts[0] = parts[0].format(where=where, wanted=wanted)
    needed = tuple(by_name[name] for r in unmet for option in r for name in option)
    for i in unknown:
        nearest = _nearest(fold_label(headers[i]), needed)
        if nearest:
            mean = _("Did you mean “{nearest}” for column {letter}, “{header}”?")
            parts.append(mean.format(nearest=nearest, letter=letters[i], header=headers[i]))
    other = _OTHER_KIND.get(kind)
    if other and _fits_better(other, kind, headers):
        parts.append(_(_KIND_HINT[other]))
    if advice:
        parts.append(advice)
    parts.append(_found(headers, letters, row))
    parts.append(_("Rename your header or add the column, then try again."))
    accepted = "; ".join(_accepts(by_name[name]) for r in unmet for o in r for name in o)
    parts.append(_("(The headers accepted: {accepted}.)").format(accepted=accepted))
    return " ".join(parts)


def _requirement_text(requirement: tuple[tuple[str, ...], ...], by_name: dict[str, Field]) -> str:
    """'Claimant name', 'Appointment (or two columns, Appointment date and Appointment
    time)', 'Appointment id or Reference'."""
    both = pgettext("columns", " and ")
    options = [both.join(by_name[name].shown_header() for name in o) for o in requirement]
    if len(requirement) == 2 and len(requirement[1]) == 2:
        two = _("{first} (or two columns, {second})")
        return two.format(first=options[0], second=options[1])
    text, *others = options
    for other in others:
        text = _("{first} or {second}").format(first=text, second=other)
    return text


def _nearest(folded: str, fields: Sequence[Field]) -> str | None:
    """The accepted spelling (English or Welsh) closest to a folded header that matched
    none, if close."""
    if not folded:
        return None
    spellings: dict[str, str] = {}
    for field in fields:
        for spelling in _written(field):
            spellings.setdefault(fold_label(spelling), spelling)
    close = difflib.get_close_matches(folded, list(spellings), n=1, cutoff=_CLOSE)
    return spellings[close[0]] if close else None


def _fits_better(other: SheetKind, kind: SheetKind, headers: Sequence[str]) -> bool:
    """The headers name every required column of `other` and more of its columns."""
    folded = [fold_label(h) for h in headers]
    mine, theirs = alias_index(fields_for(kind)), alias_index(fields_for(other))
    matched_theirs = {theirs[f] for f in folded if f in theirs}
    matched_mine = {mine[f] for f in folded if f in mine}
    return not _unmet(other, matched_theirs) and len(matched_theirs) > len(matched_mine)


def _found(headers: Sequence[str], letters: Sequence[str], row: int) -> str:
    """The headers as read, so a mismatch shows at once; never cell values: a row that
    looks like data (a date, an email, a phone) is described, not quoted."""
    named = [(letter, h) for letter, h in zip(letters, headers, strict=True) if h.strip()]
    if not named:
        return _("Row {row}, read as the header row, has no headers.").format(row=row)
    if any(_DATA_LIKE.search(h) for _, h in named):
        return _(
            "Row {row}, read as the header row, looks like data (dates, numbers or emails), "
            "not headers: add a header row above it."
        ).format(row=row)
    shown = ", ".join(f"{letter} “{_shortened(h)}”" for letter, h in named[:_SHOWN_HEADERS])
    more = len(named) - _SHOWN_HEADERS
    if more > 0:
        found = _("The headers found in row {row}: {headers} and {more} more.")
        return found.format(row=row, headers=shown, more=more)
    return _("The headers found in row {row}: {headers}.").format(row=row, headers=shown)


def _shortened(text: str) -> str:
    text = " ".join(text.split())  # line breaks in a header show as spaces
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 1] + "…"


def _written(field: Field) -> tuple[str, ...]:
    """The headers people write for `field`, those of the current language first."""
    english, welsh = (field.header, *field.aliases), field.welsh
    return (*welsh, *english) if current_language() == "cy" else (*english, *welsh)


def _accepts(field: Field) -> str:
    """'Phone: “Phone”, “Mobile”, ...': the headers of the current language (Welsh mode: the
    Welsh ones, then the English), never the API's bracketed names."""
    shown = _written(field) if current_language() == "cy" else (field.header, *field.aliases)
    spellings = ", ".join(f"“{s}”" for s in shown if "[" not in s)
    return f"{field.shown_header()}: {spellings}"
