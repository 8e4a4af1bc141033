"""Headers -> fields: which column is which field, and why a sheet cannot be used when
a required one is missing or two columns mean the same field."""

from __future__ import annotations

from collections.abc import Sequence

from batch_scheduler.errors import InputError
from batch_scheduler.fields import Field, alias_index, fold_header
from batch_scheduler.models import Issue, Severity


def match_fields(
    where: str,
    kind: str,
    fields: tuple[Field, ...],
    headers: Sequence[str],
    keys: Sequence[str],
    letters: Sequence[str],
) -> tuple[dict[str, str], list[Issue]]:
    """Canonical field -> key; unknown-column warnings; InputError for clashes and gaps."""
    index = alias_index(fields)
    folded = [fold_header(h) for h in headers]
    results_from = _results_columns(folded) if kind == "cancel" else None
    order = list(range(len(headers)))
    if results_from is not None:  # our own results workbook: its own columns win
        order = order[results_from:] + order[:results_from]
    found: dict[str, int] = {}
    issues: list[Issue] = []
    for i in order:
        name = index.get(folded[i]) if folded[i] else None
        if name is None:
            if results_from is None:
                issues.append(_unknown_column(letters[i], headers[i]))
        elif name not in found:
            found[name] = i
        elif results_from is None:
            raise InputError(_clash(where, fields, name, found[name], i, headers, letters))
    _require(where, kind, fields, found)
    return {name: keys[i] for name, i in sorted(found.items(), key=lambda kv: kv[1])}, issues


def _results_columns(folded: Sequence[str]) -> int | None:
    """Where our own columns start (at `outcome`) if this is a results sheet of `book`."""
    if folded and folded[0] == "sourcerow" and "outcome" in folded:
        return folded.index("outcome")
    return None


def _unknown_column(letter: str, header: str) -> Issue:
    """Issue.where already names the column; the message says what it means for the run."""
    problem = "is not one we know" if header else "has data but no header"
    return Issue(
        code="unknown-column",
        severity=Severity.WARNING,
        message=f"This column {problem}; it is kept and copied to the results but not sent.",
        column=letter,
        header=header or None,
    )


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
    return (
        f'{where}: columns {letters[first]} ("{headers[first]}") and {letters[second]} '
        f'("{headers[second]}") both mean "{field.header}" ({name}); keep one and rename '
        "or delete the other."
    )


def _require(where: str, kind: str, fields: tuple[Field, ...], found: dict[str, int]) -> None:
    by_name = {f.name: f for f in fields}
    missing: list[str] = []
    if kind == "book":
        if "claimant_name" not in found:
            missing.append(_accepts(by_name["claimant_name"]))
        if "appointment_at" not in found and not (
            "appointment_date" in found and "appointment_time" in found
        ):
            missing.append(
                f"{_accepts(by_name['appointment_at'])}; or two columns, "
                f"{_accepts(by_name['appointment_date'])} and "
                f"{_accepts(by_name['appointment_time'])}"
            )
    elif kind == "cancel" and "appointment_id" not in found and "reference" not in found:
        missing.append(
            f"{_accepts(by_name['appointment_id'])}, or {_accepts(by_name['reference'])}"
        )
    if missing:
        raise InputError(
            f"{where} is missing a required column: "
            + " | ".join(missing)
            + ". Add the column, or rename yours to a header accepted (the header must be the "
            "first non-empty row), then try again."
        )


def _accepts(field: Field) -> str:
    spellings = ", ".join(f'"{s}"' for s in (field.header, *field.aliases) if "[" not in s)
    return f"{field.header} (headers accepted: {spellings})"
