"""Is an appointment found under a reference the booking a row asks for?

An appointment already holding a row's reference counts as that row's booking only when it
is live (not cancelled) and is for what the row asks: the same start, duration and claimant
name. Anything else is a conflict, never "already exists": reporting a cancelled or
different appointment as done would leave the claimant without the appointment the sheet
asks for, and nobody would be told. A conflict is never sent again either: the reference is
taken, so sending would be refused, or (on a server that allows repeated references) book a
second appointment under it.

A field the answer leaves out is not held against a match (an old stored answer may lack
it); names match ignoring case and spacing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from batch_scheduler.i18n import _
from batch_scheduler.issues import make_issue
from batch_scheduler.models import Appointment, AppointmentRequest

CANCELLED_STATUS = "cancelled"


@dataclass(frozen=True)
class Match:
    """An appointment found for a request's reference, and how it differs from the request."""

    request: AppointmentRequest
    appointment: Appointment
    differences: tuple[str, ...]  # in words, e.g. "45 minutes, not 30"

    @property
    def cancelled(self) -> bool:
        return self.appointment.status == CANCELLED_STATUS

    @property
    def is_booking(self) -> bool:
        """True when the appointment is the request's own booking: live and the same."""
        return not self.cancelled and not self.differences


def compare(request: AppointmentRequest, found: Appointment, zone: tzinfo = UTC) -> Match:
    """The one matching rule: how `found` differs from what `request` asks for."""
    differences = []
    if found.appointment_at is not None and found.appointment_at != request.appointment_at:
        words = _("at {found}, not {asked}")
        found_at, asked_at = local(found.appointment_at, zone), local(request.appointment_at, zone)
        differences.append(words.format(found=found_at, asked=asked_at))
    minutes = found.duration_in_minutes
    if minutes is not None and minutes != request.duration_in_minutes:
        words = _("{minutes} minutes, not {asked}")
        differences.append(words.format(minutes=minutes, asked=request.duration_in_minutes))
    name = found.claimant_name
    if name is not None and _folded(name) != _folded(request.claimant.name):
        differences.append(_("for another claimant"))
    return Match(request, found, tuple(differences))


def best_match(
    request: AppointmentRequest, found: Sequence[Appointment], zone: tzinfo = UTC
) -> Match:
    """The request's own booking among `found` if there is one; else the live appointment
    that holds the reference, else the first (cancelled) one. `found` is not empty."""
    matches = [compare(request, item, zone) for item in found]
    return next(
        (m for m in matches if m.is_booking),
        next((m for m in matches if not m.cancelled), matches[0]),
    )


def conflict_message(match: Match, zone: tzinfo = UTC) -> str:
    """What is wrong with a conflict, and what to do, in plain words."""
    found = match.appointment
    if match.cancelled:
        when = local(found.appointment_at, zone) if found.appointment_at else _("an unknown date")
        words = {"when": when}
    else:
        words = {"differences": "; ".join(match.differences)}
    code = conflict_code(found)
    return make_issue(code, value=match.request.reference, id=found.id, **words).message


def conflict_code(found: Appointment) -> str:
    """The issue code of a conflict with `found`."""
    return "reference-cancelled" if found.status == CANCELLED_STATUS else "reference-in-use"


def local(moment: datetime, zone: tzinfo) -> str:
    """A time as people in the sheet's time zone read it: 07/12/2026 10:30."""
    return f"{moment.astimezone(zone):%d/%m/%Y %H:%M}"


def _folded(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())
