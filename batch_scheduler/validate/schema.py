"""Validation: a RawTable -> API-ready requests, plus every problem as an Issue.

Three steps, each over whole columns:
1. normalise.py reads each column into values (cells it cannot read get a code);
2. ONE pandera schema per sheet kind checks the normalised values (required, ranges,
   lengths, allowed values, future/past dates); it runs lazily and every failure case is
   translated into an Issue through issues.py, so pandera's own words never reach anyone;
3. the few cross-field rules (interpreter language, duplicate references, redirects).
The same schema writes the "Allowed values" text of the template (`describe_rules`).
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.intake import BOOK_FIELDS, CANCEL_FIELDS, FEATURE_FLAGS, Field, Kind
from batch_scheduler.issues import make_issue
from batch_scheduler.models import (
    AppointmentRequest,
    CancelRequest,
    ClaimantIn,
    Issue,
    RawTable,
)
from batch_scheduler.runtime import collector_paused
from batch_scheduler.validate import datetimes, normalise

BANDWIDTHS = ("low", "medium", "high")
MIN_DURATION, MAX_DURATION = 1, 1440
EARLIEST_BIRTH = date(1900, 1, 1)
TEXT_LIMIT, URL_LIMIT = 255, 2048
REFERENCE_PREFIX = "BS-"
OPTION_FIELDS = (
    *FEATURE_FLAGS,
    "features_bandwidth",
    "use_custom_post_call_redirect",
    "custom_user_post_call_redirect_url",
    "custom_agent_post_call_redirect_url",
)
REDIRECT_URLS = ("custom_user_post_call_redirect_url", "custom_agent_post_call_redirect_url")
BOOLEAN_FIELDS = (*FEATURE_FLAGS, "is_interpreter_needed", "use_custom_post_call_redirect")
_FIXED_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # for describing rules that do not depend on now


# ---------------------------------------------------------------- public results


@dataclass(frozen=True)
class BookValidation:
    table: RawTable
    requests: Mapping[int, AppointmentRequest]  # frame position -> request, rows without errors
    references: tuple[str | None, ...]  # per frame row: given or generated reference
    issues: tuple[Issue, ...]  # the reader's issues and ours, by row then column

    def invalid_positions(self) -> frozenset[int]:
        return frozenset(range(len(self.table))) - frozenset(self.requests)


@dataclass(frozen=True)
class CancelValidation:
    table: RawTable
    requests: Mapping[int, CancelRequest]
    issues: tuple[Issue, ...]

    def invalid_positions(self) -> frozenset[int]:
        return frozenset(range(len(self.table))) - frozenset(self.requests)


# ---------------------------------------------------------------- the schemas


def _too_long(limit: int) -> pa.Check:
    return pa.Check.str_length(max_value=limit, name="too-long")


def book_schema(settings: IntakeSettings, now: datetime) -> pa.DataFrameSchema:
    """The rules on normalised book values. Check names are issue codes (issues.py)."""
    today = now.astimezone(normalise.ZoneInfo(settings.timezone)).date()
    columns: dict[str, pa.Column] = {
        "reference": pa.Column(checks=_too_long(TEXT_LIMIT), nullable=True),
        "appointment_at": pa.Column(checks=pa.Check.gt(pd.Timestamp(now), name="in-past")),
        "duration_in_minutes": pa.Column(
            checks=pa.Check.in_range(MIN_DURATION, MAX_DURATION, name="out-of-range")
        ),
        "claimant_name": pa.Column(checks=_too_long(TEXT_LIMIT)),
        "claimant_date_of_birth": pa.Column(
            checks=[
                pa.Check.ge(pd.Timestamp(EARLIEST_BIRTH), name="out-of-range"),
                pa.Check.lt(pd.Timestamp(today), name="dob-in-future"),
            ],
            nullable=True,
        ),
        "interpreter_language": pa.Column(checks=_too_long(TEXT_LIMIT), nullable=True),
        "department": pa.Column(checks=pa.Check.ge(1, name="out-of-range"), nullable=True),
        "features_bandwidth": pa.Column(
            checks=pa.Check.isin(BANDWIDTHS, name="not-in-list"), nullable=True
        ),
        **{name: pa.Column(checks=_too_long(URL_LIMIT), nullable=True) for name in REDIRECT_URLS},
    }
    return pa.DataFrameSchema(columns, name="book")


def cancel_schema() -> pa.DataFrameSchema:
    """The rules on normalised cancel values. Check names are issue codes (issues.py)."""
    return pa.DataFrameSchema(
        {
            "reference": pa.Column(checks=_too_long(TEXT_LIMIT), nullable=True),
            "cancellation_reason": pa.Column(checks=_too_long(TEXT_LIMIT), nullable=True),
        },
        name="cancel",
    )


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(position, field, code) for every failure case; pandera's text is dropped here."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    out = []
    for column, number, index in zip(
        cases["column"], cases["check_number"], cases["index"], strict=True
    ):
        if index is None or pd.isna(index):
            continue  # a whole-column failure (dtype): cannot happen, values are built here
        if pd.isna(number):
            out.append((int(index), str(column), "required"))  # the not_nullable check
        else:
            code = schema.columns[column].checks[int(number)].name
            out.append((int(index), str(column), str(code)))
    return out


def _stats(field: str, code: str, schema: pa.DataFrameSchema) -> dict[str, Any]:
    check = next(c for c in schema.columns[field].checks if c.name == code)
    return dict(check.statistics)


def _rule(field: str, code: str, schema: pa.DataFrameSchema) -> str:
    """The rule a check enforces, in words, from the check's own statistics."""
    stats = _stats(field, code, schema)
    if "include_min" in stats:  # in_range
        return f"from {stats['min_value']} to {stats['max_value']}"
    if "exact_value" in stats:  # str_length
        return f"at most {stats['max_value']} characters"
    if "min_value" in stats:  # ge
        low = stats["min_value"]
        return f"on or after {low:%d/%m/%Y}" if isinstance(low, datetime) else f"{low} or more"
    if "allowed_values" in stats:
        return ", ".join(stats["allowed_values"])
    return ""


# ---------------------------------------------------------------- where things are


@dataclass(frozen=True)
class _Sheet:
    """Finds a field's column and cells, and writes Issues located on them."""

    table: RawTable
    frame: pd.DataFrame

    def has(self, field: str) -> bool:
        return field in self.table.fields

    def raw(self, field: str) -> pd.Series:
        if not self.has(field):
            return pd.Series(None, index=self.frame.index, dtype=object)
        return self.frame[self.table.fields[field]]

    def place(self, field: str) -> tuple[str | None, str | None]:
        if not self.has(field):
            return None, _friendly(field)
        key = self.table.fields[field]
        return self.table.letter_of(key), self.table.headers[self.table.keys.index(key)]

    def why_unreadable(
        self, field: str, pos: int, want: datetimes.Want, pivot_year: int
    ) -> dict[str, str]:
        """What is wrong with a date or time cell that could not be read, for its message."""
        return datetimes.explain(self.raw(field).iat[pos], want, pivot_year)

    def issue(self, code: str, pos: int, field: str, **values: Any) -> Issue:
        column, header = self.place(field)
        if "value" not in values:
            cell = self.raw(field).iat[pos]
            values["value"] = None if _blank(cell) else normalise.cell_text(cell)
        values.setdefault("label", header or _friendly(field))
        return make_issue(
            code,
            row=self.table.source_rows[pos],
            column=column,
            header=header,
            field=field,
            **values,
        )


def _where(mask: pd.Series) -> list[int]:
    """Frame positions where `mask` is true (frames here always have a RangeIndex)."""
    return [int(p) for p in np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))]


def _coded(codes: pd.Series) -> list[tuple[int, str]]:
    """(position, code) for every cell that has a code."""
    return [(p, str(codes.iat[p])) for p in _where(codes.notna())]


def _blank(cell: Any) -> bool:
    return (
        cell is None
        or (not isinstance(cell, str) and bool(pd.isna(cell)))
        or (isinstance(cell, str) and not cell.strip())
    )


def _friendly(field: str) -> str:
    every = {f.name: f for f in (*BOOK_FIELDS, *CANCEL_FIELDS)}
    return every[field].header if field in every else field


class _Found:
    """Issues as they are found; one per cell (the first found wins)."""

    def __init__(self, sheet: _Sheet) -> None:
        self.sheet = sheet
        self.issues: list[Issue] = []
        self.flagged: set[tuple[int, str]] = set()
        # the reader's cell errors (merged cells, formulas never calculated, control
        # characters) come first: their cells get no second issue, and they block the row
        rows = {r: i for i, r in enumerate(sheet.table.source_rows)}
        for issue in sheet.table.issues:
            if issue.is_error and issue.row in rows and issue.field:
                self.flagged.add((rows[issue.row], issue.field))

    def add(self, code: str, pos: int, field: str, **values: Any) -> None:
        if (pos, field) in self.flagged:
            return
        self.flagged.add((pos, field))
        self.issues.append(self.sheet.issue(code, pos, field, **values))

    def codes(self, parsed: normalise.Parsed, field: str, **values: Any) -> None:
        for pos, code in _coded(parsed.codes):
            details: Any = parsed.details.iat[pos] if parsed.details is not None else None
            self.add(code, pos, field, **values, **(details or {}))

    def error_positions(self) -> frozenset[int]:
        rows = {r: i for i, r in enumerate(self.sheet.table.source_rows)}
        every = (*self.sheet.table.issues, *self.issues)
        return frozenset(rows[i.row] for i in every if i.is_error and i.row in rows)


def _sorted(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    def key(issue: Issue) -> tuple[int, int, str]:
        letter = issue.column or ""
        return (issue.row or 0, len(letter), letter)

    return tuple(sorted(issues, key=key))


# ---------------------------------------------------------------- appointment times


@dataclass(frozen=True)
class _When:
    utc: pd.Series  # datetime64 UTC; NaT when missing or unreadable
    field: str  # where combined problems are reported (the date cell when there are two)
    timezone: str

    def shown(self, pos: int) -> str:
        """The slot as a message shows it: wall-clock time, day first."""
        moment: datetime = pd.Timestamp(self.utc.iat[pos]).to_pydatetime()  # type: ignore[arg-type]
        return normalise.show_local(moment.astimezone(normalise.ZoneInfo(self.timezone)))


def _appointment_times(
    sheet: _Sheet, found: _Found, settings: IntakeSettings, now: datetime
) -> _When:
    if sheet.has("appointment_at"):
        local, instant, field = _one_column(sheet, found, now)
    elif sheet.has("appointment_date") and sheet.has("appointment_time"):
        local, instant, field = _two_columns(sheet, found, now)
    else:
        raise InputError(
            "The sheet has no appointment time: add an Appointment column (date and time), or "
            "Appointment date and Appointment time columns."
        )
    utc, codes = normalise.localize(local, settings.timezone)
    for pos, code in _coded(codes):
        moment: datetime = pd.Timestamp(local.iat[pos]).to_pydatetime()  # type: ignore[arg-type]
        found.add(
            code,
            pos,
            field,
            value=normalise.show_local(moment),
            **normalise.explain_local_time(moment, settings.timezone),
        )
    return _When(utc.fillna(instant), field, settings.timezone)


def _one_column(sheet: _Sheet, found: _Found, now: datetime) -> tuple[pd.Series, pd.Series, str]:
    field, pivot = "appointment_at", now.year + 50
    m = normalise.read_moments(
        sheet.raw(field), serials=normalise.APPOINTMENT_SERIALS, pivot_year=pivot
    )
    no_time = ~m.has_time & m.local.notna()
    for pos in _where(m.bad | no_time):
        why = sheet.why_unreadable(field, pos, "datetime", pivot)
        found.add("invalid-datetime", pos, field, **why)
    return m.local.where(m.has_time), m.instant, field


def _two_columns(sheet: _Sheet, found: _Found, now: datetime) -> tuple[pd.Series, pd.Series, str]:
    pivot = now.year + 50
    d = normalise.read_moments(
        sheet.raw("appointment_date"), serials=normalise.APPOINTMENT_SERIALS, pivot_year=pivot
    )
    t = normalise.read_times(sheet.raw("appointment_time"))
    bad_date = d.bad | d.instant.notna()
    for pos in _where(bad_date):
        why = sheet.why_unreadable("appointment_date", pos, "date", pivot)
        found.add("invalid-date", pos, "appointment_date", **why)
    for pos, code in _coded(t.codes):
        why = sheet.why_unreadable("appointment_time", pos, "time", pivot)
        found.add(code, pos, "appointment_time", **why)
    for field, missing in (("appointment_date", d.missing), ("appointment_time", t.missing)):
        for pos in _where(missing):
            found.add("required", pos, field)
    unusable = bad_date | t.codes.notna() | d.missing | t.missing
    for pos in _where(unusable):
        found.flagged.add((pos, "appointment_date"))  # one problem per slot is enough
    local = d.local.dt.normalize() + t.values
    empty = pd.Series(pd.NaT, index=local.index, dtype="datetime64[us, UTC]")
    return local, empty, "appointment_date"


# ---------------------------------------------------------------- book


def validate_book(table: RawTable, settings: IntakeSettings, *, now: datetime) -> BookValidation:
    """Check every book row; build requests for the rows with no error."""
    with collector_paused():  # ~0.3 s of 100,000 rows otherwise (runtime.py says why)
        return _validate_book(table, settings, now)


def _validate_book(table: RawTable, settings: IntakeSettings, now: datetime) -> BookValidation:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if "claimant_name" not in table.fields:
        raise InputError("The sheet has no Claimant name column: add one (it is required).")
    frame = table.frame.reset_index(drop=True)
    sheet = _Sheet(table, frame)
    found = _Found(sheet)
    when = _appointment_times(sheet, found, settings, now)
    values = _book_values(sheet, found, settings, now)
    values["appointment_at"] = when.utc
    schema = book_schema(settings, now)
    for pos, field, code in _failures(schema, values):
        target = when.field if field == "appointment_at" else field
        extra = _schema_values(code, field, schema, values, pos, when, settings)
        found.add(code, pos, target, **extra)
    _interpreter_rules(sheet, found, values)
    _redirect_rules(sheet, found, values, settings)
    references = _references(values, when.utc)
    _duplicates(sheet, found, values["reference"], references)
    bad = found.error_positions()
    requests = _book_requests(values, references, settings, bad)
    issues = _sorted((*table.issues, *found.issues))
    return BookValidation(table, requests, tuple(references), issues)


def _schema_values(
    code: str,
    field: str,
    schema: pa.DataFrameSchema,
    values: pd.DataFrame,
    pos: int,
    when: _When | None = None,
    settings: IntakeSettings | None = None,
) -> dict[str, Any]:
    """Template values for a schema failure at `pos` (`values` holds the normalised values)."""
    value = values[field].iat[pos]
    if code == "in-past" and when is not None and settings is not None:
        return {"local": when.shown(pos), "tz": settings.timezone}
    if code == "required" and field == "appointment_at":
        return {"label": "The appointment date and time"}
    if code == "dob-in-future":
        birth: Any = value  # a Timestamp: the normalised date of birth
        return {"read": f" (we read it as {datetimes.spoken(birth.date())})"}
    if code in ("out-of-range", "not-in-list"):
        rule = _rule(field, code, schema)
        return {"rule": _RULE_WORDS.get(field, "{}").format(rule), "allowed": rule}
    if code == "too-long":
        return {"limit": _stats(field, code, schema)["max_value"], "length": len(str(value))}
    return {}


_RULE_WORDS = {
    "duration_in_minutes": "the duration must be whole minutes {}",
    "claimant_date_of_birth": "a date of birth must be {}",
    "department": "a department id must be {}",
}


def _book_values(
    sheet: _Sheet, found: _Found, settings: IntakeSettings, now: datetime
) -> pd.DataFrame:
    """Every book field read and normalised, one column each; parse problems recorded."""
    out: dict[str, pd.Series] = {}
    out["reference"] = normalise.as_text(sheet.raw("reference")).values
    for name in ("claimant_name", "interpreter_language"):
        text = normalise.parse_free_text(sheet.raw(name))
        found.codes(text, name)
        out[name] = text.values
    duration = normalise.parse_integer(sheet.raw("duration_in_minutes"))
    found.codes(duration, "duration_in_minutes")
    out["duration_in_minutes"] = duration.values.where(~duration.missing, settings.default_duration)
    out["claimant_date_of_birth"] = _birth_dates(sheet, found, now)
    phone = normalise.parse_phone(sheet.raw("claimant_phone_number"), settings.default_region)
    found.codes(phone, "claimant_phone_number")
    out["claimant_phone_number"] = phone.values
    email = normalise.parse_email(sheet.raw("claimant_email"))
    found.codes(email, "claimant_email")
    out["claimant_email"] = email.values
    for name in BOOLEAN_FIELDS:
        flag = normalise.parse_boolean(sheet.raw(name))
        found.codes(flag, name, default=_default_word(name, settings))
        out[name] = flag.values
    department = normalise.parse_department(sheet.raw("department"), settings.departments)
    for pos, code in _coded(department.codes):
        cell = normalise.cell_text(sheet.raw("department").iat[pos])
        found.add(code, pos, "department", **_unknown_department(cell, settings.departments))
    out["department"] = department.values
    out["features_bandwidth"] = normalise.parse_choice(sheet.raw("features_bandwidth")).values
    for name in REDIRECT_URLS:
        url = normalise.parse_url(sheet.raw(name))
        found.codes(url, name)
        out[name] = url.values
    return pd.DataFrame(out, index=sheet.frame.index)


def _birth_dates(sheet: _Sheet, found: _Found, now: datetime) -> pd.Series:
    field = "claimant_date_of_birth"
    m = normalise.read_moments(
        sheet.raw(field), serials=normalise.DATE_SERIALS, pivot_year=now.year
    )
    bad = m.bad | m.instant.notna()
    for pos in _where(bad):
        found.add("invalid-date", pos, field, **sheet.why_unreadable(field, pos, "date", now.year))
    return m.local.dt.normalize().where(~bad)


def _default_word(field: str, settings: IntakeSettings) -> str:
    default = settings.defaults.get(field)
    if isinstance(default, bool):
        return "Yes" if default else "No"
    return (
        "No"
        if field in ("is_interpreter_needed", "use_custom_post_call_redirect")
        else ("the platform's default")
    )


_LISTED_DEPARTMENTS = 10  # an unknown department's message lists them all up to this many


def _unknown_department(cell: str, departments: Mapping[str, int]) -> dict[str, str]:
    """unknown-department's values: the known names closest to `cell`, else all of them when
    they are few; nothing to list when no names are set up."""
    if not departments:
        return {"known": " No department names are set up."}

    def listed(names: Iterable[str]) -> str:
        return ", ".join(f"{name} ({departments[name]})" for name in names)

    close = normalise.closest_departments(cell, departments)
    if len(close) == 1:
        known = f" The closest known name is {listed(close)}."
    elif close:
        known = f" The closest known names are {listed(close)}."
    elif len(departments) <= _LISTED_DEPARTMENTS:
        known = f" Known departments: {listed(departments)}."
    else:
        known = f" None of the {len(departments)} names set up is close."
    return {"known": known, "or_name": " or a known name"}


def _interpreter_rules(sheet: _Sheet, found: _Found, values: pd.DataFrame) -> None:
    needed = values["is_interpreter_needed"].fillna(False).astype(bool)
    language = values["interpreter_language"].notna()
    target = (
        "interpreter_language" if sheet.has("interpreter_language") else ("is_interpreter_needed")
    )
    for pos in _where(needed & ~language):
        found.add("language-required", pos, target)
    for pos in _where(~needed & language):
        found.add(
            "language-not-needed",
            pos,
            "interpreter_language",
        )


def _redirect_rules(
    sheet: _Sheet, found: _Found, values: pd.DataFrame, settings: IntakeSettings
) -> None:
    default = settings.defaults.get("use_custom_post_call_redirect") is True
    flag = values["use_custom_post_call_redirect"].fillna(default).astype(bool)
    for name in REDIRECT_URLS:
        given = values[name].notna() & ~flag
        for pos in _where(given):
            found.add("redirect-without-flag", pos, name)


# ---------------------------------------------------------------- references


def _fold_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def generated_reference(name: str, appointment_at_utc: datetime, date_of_birth: date | None) -> str:
    """A reference for a row that has none, the same on every run for the same row.

    "BS-" + the first 16 characters of base32(sha256("folded name|dob ISO or ''|UTC ISO")).
    The name is folded (Unicode NFKC, case-folded, runs of spaces made one) so retyping it
    with other capitals or spacing gives the same reference; the slot is the UTC instant, so
    the same wall-clock time written in any accepted shape gives the same reference.
    """
    if appointment_at_utc.tzinfo is None:
        raise ValueError("appointment_at_utc must be timezone-aware")
    instant = appointment_at_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    birth = date_of_birth.isoformat() if date_of_birth else ""
    text = f"{_fold_name(name)}|{birth}|{instant}"
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return REFERENCE_PREFIX + base64.b32encode(digest).decode("ascii")[:16]


def _references(values: pd.DataFrame, utc: pd.Series) -> list[str | None]:
    """The given reference, else a generated one when there is a name and a slot."""
    out: list[str | None] = _objects(values["reference"])
    todo = values["reference"].isna() & values["claimant_name"].notna() & utc.notna()
    positions = _where(todo)
    if positions:
        lists = _lists(values.assign(appointment_at=utc), positions)
        for i, pos in enumerate(positions):
            out[pos] = generated_reference(
                lists["claimant_name"][i],
                lists["appointment_at"][i],
                lists["claimant_date_of_birth"][i],
            )
    return out


def _duplicates(
    sheet: _Sheet, found: _Found, given: pd.Series, references: list[str | None]
) -> None:
    refs = pd.Series(references, index=given.index, dtype=object)
    repeated = refs[refs.notna() & refs.duplicated(keep=False)]
    rows = sheet.table.source_rows
    for _ref, group in repeated.groupby(repeated, sort=False):
        positions = [int(p) for p in group.index]
        for pos in positions:
            others = _row_list([rows[p] for p in positions if p != pos])
            if isinstance(given.iat[pos], str):
                found.add("duplicate-reference", pos, "reference", others=others)
            else:
                found.add("duplicate-row", pos, "claimant_name", others=others)


def _row_list(rows: list[int], shown: int = 5) -> str:
    words = [str(r) for r in rows[:shown]]
    if len(rows) > shown:
        return f"rows {', '.join(words)} and {len(rows) - shown} more"
    if len(words) == 1:
        return f"row {words[0]}"
    return f"rows {', '.join(words[:-1])} and {words[-1]}"


# ---------------------------------------------------------------- building requests


def _book_requests(
    values: pd.DataFrame,
    references: list[str | None],
    settings: IntakeSettings,
    bad: frozenset[int],
) -> dict[int, AppointmentRequest]:
    good = [p for p in range(len(values)) if p not in bad]
    if not good:
        return {}
    cols = _lists(values, good)
    claimants = [
        ClaimantIn(name=name, date_of_birth=birth, phone_number=phone, email=email)
        for name, birth, phone, email in zip(
            cols["claimant_name"],
            cols["claimant_date_of_birth"],
            cols["claimant_phone_number"],
            cols["claimant_email"],
            strict=True,
        )
    ]
    rows = zip(
        good,
        claimants,
        cols["appointment_at"],
        cols["duration_in_minutes"],
        cols["is_interpreter_needed"],
        cols["interpreter_language"],
        cols["department"],
        _option_dicts(cols, settings),
        strict=True,
    )
    return {
        pos: AppointmentRequest(
            reference=str(references[pos]),
            appointment_at=at,
            duration_in_minutes=int(minutes),
            claimant=claimant,
            is_interpreter_needed=bool(needed),
            interpreter_language=language if needed else None,
            department_id=department,
            options=options,
        )
        for pos, claimant, at, minutes, needed, language, department, options in rows
    }


def _objects(column: pd.Series) -> list[Any]:
    """A column as plain Python values, every kind of NA as None."""
    values: list[Any] = column.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    return values


def _lists(values: pd.DataFrame, positions: list[int]) -> dict[str, list[Any]]:
    """The rows at `positions`, column by column, as Python values (fast: no per-cell pandas)."""
    rows = values if len(positions) == len(values) else values.iloc[positions]
    dates = ("appointment_at", "claimant_date_of_birth")
    out = {name: _objects(rows[name]) for name in rows.columns if name not in dates}
    out["appointment_at"] = _objects(rows["appointment_at"].dt.tz_convert(UTC).dt.to_pydatetime())
    out["claimant_date_of_birth"] = (
        rows["claimant_date_of_birth"].to_numpy().astype("datetime64[D]").tolist()
    )
    return out


def _option_dicts(cols: Mapping[str, list[Any]], settings: IntakeSettings) -> list[dict[str, Any]]:
    """Per row, the options given or defaulted (blank without a default: not sent).

    Options blank in every row are left out up front, and when the rest are filled in every
    row no per-value test is needed: the common sheet builds each dict straight from a row.
    """
    filled = {}
    for name in OPTION_FIELDS:
        default = settings.defaults.get(name)
        column = cols[name]
        filled[name] = column if default is None else [default if v is None else v for v in column]
    given = [name for name in OPTION_FIELDS if any(v is not None for v in filled[name])]
    if not given:
        return [{} for _ in range(len(cols["claimant_name"]))]
    rows = zip(*(filled[name] for name in given), strict=True)
    if not any(None in filled[name] for name in given):
        return [dict(zip(given, row, strict=True)) for row in rows]
    return [{k: v for k, v in zip(given, row, strict=True) if v is not None} for row in rows]


# ---------------------------------------------------------------- cancel


def validate_cancel(
    table: RawTable, settings: IntakeSettings, *, default_reason: str | None = None
) -> CancelValidation:
    """Check every cancel row: an id (a UUID) or a reference; a reason of at most 255."""
    if "appointment_id" not in table.fields and "reference" not in table.fields:
        raise InputError("The sheet has neither an Appointment id nor a Reference column.")
    frame = table.frame.reset_index(drop=True)
    sheet = _Sheet(table, frame)
    found = _Found(sheet)
    ident = normalise.parse_uuid(sheet.raw("appointment_id"))
    found.codes(ident, "appointment_id")
    reference = normalise.as_text(sheet.raw("reference"))
    reason_text = normalise.parse_free_text(sheet.raw("cancellation_reason"))
    found.codes(reason_text, "cancellation_reason")
    reason = reason_text.values
    if default_reason and default_reason.strip():
        reason = reason.fillna(default_reason.strip())
    values = pd.DataFrame(
        {
            "appointment_id": ident.values,
            "reference": reference.values,
            "cancellation_reason": reason,
        }
    )
    schema = cancel_schema()
    for pos, field, code in _failures(schema, values):
        found.add(code, pos, field, **_schema_values(code, field, schema, values, pos))
    neither = ident.missing & reference.missing
    target = "appointment_id" if sheet.has("appointment_id") else "reference"
    for pos in _where(neither):
        found.add("missing-id", pos, target)
    bad = found.error_positions()
    requests = {
        pos: CancelRequest(
            appointment_id=_none(values["appointment_id"].iat[pos]),
            reference=_none(values["reference"].iat[pos]),
            cancellation_reason=_none(values["cancellation_reason"].iat[pos]),
        )
        for pos in range(len(values))
        if pos not in bad
    }
    return CancelValidation(table, requests, _sorted((*table.issues, *found.issues)))


def _none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------- the template's notes

_FORMATS = {
    Kind.DATETIME: "A date and time in the future, day first: 03/12/2032 14:30 (also 3/12/2032 "
    "2:30pm, 3 Dec 2032 14:30, 2032-12-03 14:30, or an Excel date cell). Clock time in {tz}; "
    "a time the clocks skip or repeat when they change is refused. An offset "
    "(2032-12-03T14:30+00:00) gives an exact instant.",
    Kind.DATE: "A date, day first: 14/02/1985 (also 1985-02-14, 14 Feb 1985, or an Excel date "
    "cell).",
    Kind.TIME: "A time of day on the 24-hour clock: 14:30 (also 2:30pm, or an Excel time cell).",
    Kind.INTEGER: "A whole number.",
    Kind.BOOLEAN: "Yes or No (also Y/N, True/False, 1/0, any case).",
    Kind.PHONE: "A phone number: UK numbers like 020 7946 0123, others with their country code "
    "(+33 1 99 00 12 34). Format the column as Text so Excel keeps the leading 0.",
    Kind.EMAIL: "An email address.",
    Kind.URL: "A full https address (https://...).",
    Kind.BANDWIDTH: "One of {allowed}.",
    Kind.TEXT: "Text.",
    Kind.DEPARTMENT: "A department id (a whole number){names}.",
}


def describe_rules(field: Field, settings: IntakeSettings) -> str:
    """The "Allowed values" text for the template's Instructions sheet, from the same rules
    the schema enforces (limits come from the pandera checks' own statistics)."""
    cancel = field in CANCEL_FIELDS
    schema = cancel_schema() if cancel else book_schema(settings, _FIXED_NOW)
    parts = ["Required." if field.required else "Optional."]
    names = ", ".join(settings.departments)
    parts.append(
        _FORMATS[field.kind].format(
            tz=settings.timezone,
            allowed=_rule("features_bandwidth", "not-in-list", book_schema(settings, _FIXED_NOW)),
            names=f", or one of these names: {names}" if names else "",
        )
    )
    column = schema.columns.get(field.name)
    for check in column.checks if column is not None else ():
        if check.name in ("out-of-range", "too-long"):
            rule = _rule(field.name, str(check.name), schema)
            parts.append(f"{_RULE_WORDS.get(field.name, '{}').format(rule)}.".capitalize())
    parts.extend(_cancel_notes(field) if cancel else _extra_notes(field, settings))
    return " ".join(parts)


def _cancel_notes(field: Field) -> list[str]:
    if field.name == "appointment_id":
        return ["An id like 8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69. Give this or the reference."]
    if field.name == "reference":
        return ["Give this or the appointment id."]
    return ["Blank: the --reason given, if any."]


def _extra_notes(field: Field, settings: IntakeSettings) -> list[str]:
    name = field.name
    if name == "reference":
        return ["Unique in the sheet. Blank: one is made from the claimant and slot."]
    if name == "duration_in_minutes":
        return [f"Blank: {settings.default_duration}."]
    if name == "claimant_date_of_birth":
        return ["Must be in the past."]
    if name == "interpreter_language":
        return ["Required when an interpreter is needed."]
    if name in OPTION_FIELDS or name in BOOLEAN_FIELDS:
        default = settings.defaults.get(name)
        if isinstance(default, bool):
            return [f"Blank: {'Yes' if default else 'No'}."]
        if default is not None:
            return [f"Blank: {default}."]
        if name in ("is_interpreter_needed", "use_custom_post_call_redirect"):
            return ["Blank: No."]
        return ["Blank: none."] if name in REDIRECT_URLS else ["Blank: the platform's default."]
    return []
