"""The column checks: each field read from the sheet into normalised values, its problems
recorded on its cells. The building blocks of every kind of sheet (book, and the allocation
sheets, which have some of the book's fields).

A `FieldReader` reads one field per call, whole column at once, and returns its values (a
Series by frame position); a cell it cannot read gets its code and message values on the
`Found` it was given. `check` then runs a kind's pandera schema over the values read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pandera.pandas as pa

from batch_scheduler.config import IntakeSettings
from batch_scheduler.i18n import _, pgettext
from batch_scheduler.validate import contacts, datetimes, values
from batch_scheduler.validate.cells import Parsed, as_text, cell_text, coded, positions
from batch_scheduler.validate.checks import failure_values, failures
from batch_scheduler.validate.date_problems import Want, explain
from batch_scheduler.validate.sheet import Found, Sheet

# Fields whose blank means No, whatever the settings' defaults say of other flags.
NO_WHEN_BLANK = ("is_interpreter_needed", "use_custom_post_call_redirect")


@dataclass(frozen=True)
class When:
    """Appointment times as read: the UTC instants, and where their problems are shown."""

    utc: pd.Series  # datetime64 UTC; NaT when missing or unreadable
    field: str  # where combined problems are reported (the date cell when there are two)
    timezone: str

    def shown(self, pos: int) -> str:
        """The slot as a message shows it: wall-clock time, day first."""
        moment: datetime = pd.Timestamp(self.utc.iat[pos]).to_pydatetime()  # type: ignore[arg-type]
        return datetimes.show_local(moment.astimezone(ZoneInfo(self.timezone)))


class FieldReader:
    """Reads a sheet's fields into normalised values, recording each cell's problem."""

    def __init__(self, found: Found, settings: IntakeSettings) -> None:
        self.found = found
        self.sheet: Sheet = found.sheet
        self.settings = settings

    def _why(self, field: str, pos: int, want: Want, pivot_year: int) -> dict[str, str]:
        """What is wrong with a date or time cell that could not be read, for its message."""
        return explain(self.sheet.raw(field).iat[pos], want, pivot_year)

    # ------------------------------------------------------------ one field each

    def blank(self, field: str) -> pd.Series:
        """Which of the field's cells are empty (an absent column's are all empty)."""
        return as_text(self.sheet.raw(field)).missing

    def given_text(self, field: str) -> pd.Series:
        """Trimmed text, nothing checked (a reference is whatever it says)."""
        return as_text(self.sheet.raw(field)).values

    def free_text(self, field: str) -> pd.Series:
        """Text people type (names, languages, reasons); garbled text gets a warning."""
        return self._parsed(field, values.parse_free_text)

    def integer(self, field: str, *, default: int | None = None) -> pd.Series:
        """Whole numbers; a blank cell reads as `default`."""
        parsed = values.parse_integer(self.sheet.raw(field))
        self.found.codes(parsed, field)
        return parsed.values if default is None else parsed.values.where(~parsed.missing, default)

    def dates(self, field: str, *, pivot_year: int) -> pd.Series:
        """Dates (a time of day, if given, is dropped); two-digit years fall in the hundred
        years ending at `pivot_year`. An unreadable cell says exactly what is wrong."""
        m = datetimes.read_moments(
            self.sheet.raw(field), serials=datetimes.DATE_SERIALS, pivot_year=pivot_year
        )
        bad = m.bad | m.instant.notna()
        for pos in positions(bad):
            self.found.add("invalid-date", pos, field, **self._why(field, pos, "date", pivot_year))
        return m.local.dt.normalize().where(~bad)

    def phone(self, field: str) -> pd.Series:
        region = self.settings.default_region
        return self._parsed(field, lambda raw: contacts.parse_phone(raw, region))

    def email(self, field: str) -> pd.Series:
        return self._parsed(field, contacts.parse_email)

    def flag(self, field: str) -> pd.Series:
        """Yes/no answers; a wrong one's message says what blank means for this field."""
        return self._parsed(field, values.parse_boolean, default=self._blank_means(field))

    def _blank_means(self, field: str) -> str:
        default = self.settings.defaults.get(field)
        yes, no = pgettext("answer", "Yes"), pgettext("answer", "No")
        if isinstance(default, bool):
            return yes if default else no
        return no if field in NO_WHEN_BLANK else _("the platform's default")

    def department(self, field: str) -> pd.Series:
        """A department id or a configured name -> the id; an unknown one's message names the
        closest known names."""
        known = self.settings.departments
        raw = self.sheet.raw(field)
        parsed = values.parse_department(raw, known)
        for pos, code in coded(parsed.codes):
            cell = cell_text(raw.iat[pos])
            self.found.add(code, pos, field, **values.unknown_department(cell, known))
        return parsed.values

    def choice(self, field: str, words: Mapping[str, str] | None = None) -> pd.Series:
        """One of a few words, lower-cased (the schema checks which); `words` in another
        language read as the choice they stand for."""
        return values.parse_choice(self.sheet.raw(field), words).values

    def url(self, field: str) -> pd.Series:
        return self._parsed(field, values.parse_url)

    def uuid(self, field: str) -> pd.Series:
        return self._parsed(field, values.parse_uuid)

    def _parsed(
        self, field: str, parse: Callable[[pd.Series], Parsed], **message: str
    ) -> pd.Series:
        """The field's cells through `parse`; each code it gives becomes an issue."""
        parsed = parse(self.sheet.raw(field))
        self.found.codes(parsed, field, **message)
        return parsed.values

    # ------------------------------------------------------------ appointment times

    def appointment_times(self, now: datetime) -> When:
        """The appointment (or slot) times: one column of date and time, or a date column and
        a time column; wall-clock times in the settings' zone, refused when the clocks skip
        or repeat them."""
        if self.sheet.has("appointment_at"):
            local, instant, field = self._one_column(now)
        else:  # the reader made sure the sheet has one or the other
            local, instant, field = self._two_columns(now)
        timezone = self.settings.timezone
        utc, codes = datetimes.localize(local, timezone)
        for pos, code in coded(codes):
            moment: datetime = pd.Timestamp(local.iat[pos]).to_pydatetime()  # type: ignore[arg-type]
            self.found.add(
                code,
                pos,
                field,
                value=datetimes.show_local(moment),
                **datetimes.explain_local_time(moment, timezone),
            )
        return When(utc.fillna(instant), field, timezone)

    def _one_column(self, now: datetime) -> tuple[pd.Series, pd.Series, str]:
        field, pivot = "appointment_at", now.year + 50
        m = datetimes.read_moments(
            self.sheet.raw(field), serials=datetimes.APPOINTMENT_SERIALS, pivot_year=pivot
        )
        no_time = ~m.has_time & m.local.notna()
        for pos in positions(m.bad | no_time):
            why = self._why(field, pos, "datetime", pivot)
            self.found.add("invalid-datetime", pos, field, **why)
        return m.local.where(m.has_time), m.instant, field

    def _two_columns(self, now: datetime) -> tuple[pd.Series, pd.Series, str]:
        pivot, found = now.year + 50, self.found
        d = datetimes.read_moments(
            self.sheet.raw("appointment_date"),
            serials=datetimes.APPOINTMENT_SERIALS,
            pivot_year=pivot,
        )
        t = datetimes.read_times(self.sheet.raw("appointment_time"))
        bad_date = d.bad | d.instant.notna()
        for pos in positions(bad_date):
            why = self._why("appointment_date", pos, "date", pivot)
            found.add("invalid-date", pos, "appointment_date", **why)
        for pos, code in coded(t.codes):
            why = self._why("appointment_time", pos, "time", pivot)
            found.add(code, pos, "appointment_time", **why)
        for field, missing in (("appointment_date", d.missing), ("appointment_time", t.missing)):
            for pos in positions(missing):
                found.add("required", pos, field)
        unusable = bad_date | t.codes.notna() | d.missing | t.missing
        for pos in positions(unusable):
            found.flagged.add((pos, "appointment_date"))  # one problem per slot is enough
        local = d.local.dt.normalize() + t.values
        empty = pd.Series(pd.NaT, index=local.index, dtype="datetime64[us, UTC]")
        return local, empty, "appointment_date"

    # ------------------------------------------------------------ the kind's rules

    def check(
        self, schema: pa.DataFrameSchema, read: pd.DataFrame, when: When | None = None
    ) -> None:
        """Run `schema` over the values read (those of its columns `read` has); a failure
        on the appointment time is shown where `when` reports its problems."""
        for pos, field, code in failures(schema, read):
            if when is not None and field == "appointment_at":
                self.found.add(code, pos, when.field, **_time_values(code, when, pos))
            else:
                value: Any = read[field].iat[pos]
                self.found.add(code, pos, field, **failure_values(schema, code, field, value))


def _time_values(code: str, when: When, pos: int) -> dict[str, str]:
    if code == "in-past":
        return {"local": when.shown(pos), "tz": when.timezone}
    if code == "required":
        return {"label": _("The appointment date and time")}
    return {}
