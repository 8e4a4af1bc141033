"""Triage before sending (no network): what the ledger already knows about each row.

Creates: send, check with the server first (a key left SENDING or UNKNOWN), or done (booked
before: the row's own booking, or a conflict). Cancels: the appointment id to cancel (given,
or from the ledger's create), to be found by reference on the server, or done. A dry run
stops here; a real run sends what triage left to send (creates.py, cancels.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from batch_scheduler.api import parse_appointment
from batch_scheduler.columns.words import outcome_word
from batch_scheduler.i18n import _
from batch_scheduler.ledger import CANCEL, CREATE, EntryState, LedgerBackend, LedgerEntry
from batch_scheduler.models import (
    Appointment,
    AppointmentRequest,
    CancelRequest,
    Outcome,
    RowResult,
)
from batch_scheduler.send.matching import CANCELLED_STATUS, Match, compare, conflict_message


@dataclass(frozen=True)
class CreateTriage:
    to_send: tuple[tuple[int, AppointmentRequest], ...]
    to_reconcile: tuple[tuple[int, AppointmentRequest], ...]
    done: Mapping[int, RowResult]
    unseen: frozenset[int] = frozenset()  # positions of to_send the ledger has never seen


@dataclass(frozen=True)
class CancelTriage:
    to_send: tuple[tuple[int, str, CancelRequest], ...]
    to_resolve: tuple[tuple[int, CancelRequest], ...]
    done: Mapping[int, RowResult]


def triage_creates(
    items: Sequence[tuple[int, AppointmentRequest]], ledger: LedgerBackend, *, zone: tzinfo = UTC
) -> CreateTriage:
    """Split creates by what the ledger knows: send, check with the server first, or done.

    A reference booked by an earlier run is done: already_exists when that booking is what
    the row asks for and we did not cancel it since; a conflict otherwise (matching.py).
    `zone` is the sheet's time zone, for the times in a conflict's message.
    """
    entries = ledger.get_many(CREATE, [request.reference for _, request in items])
    booked = [entry.appointment_id for entry in entries.values() if entry.appointment_id]
    cancels = ledger.get_many(CANCEL, booked)
    to_send, to_reconcile, done, unseen = [], [], {}, set()
    for position, request in items:
        entry = entries.get(request.reference)
        if entry is None:
            unseen.add(position)
        if entry is None or entry.state in (EntryState.REJECTED, EntryState.NOT_APPLIED):
            to_send.append((position, request))
        elif entry.state is EntryState.DONE:
            cancel = cancels.get(entry.appointment_id or "")
            done[position] = booked_before(request, entry, cancel, zone)
        else:
            to_reconcile.append((position, request))
    return CreateTriage(tuple(to_send), tuple(to_reconcile), done, frozenset(unseen))


def booked_before(
    request: AppointmentRequest,
    entry: LedgerEntry,
    cancel: LedgerEntry | None,
    zone: tzinfo,
) -> RowResult:
    """A reference the ledger holds as booked (`entry`; `cancel`: the ledger's cancel of
    that appointment, if any): this row's booking, or a conflict."""
    appointment = stored(entry)
    if appointment is None:
        return RowResult(Outcome.ALREADY_EXISTS)
    if cancel is not None and cancel.state is EntryState.DONE:
        appointment = dataclasses.replace(appointment, status=CANCELLED_STATUS)
    return found_result(compare(request, appointment, zone), zone)


def found_result(match: Match, zone: tzinfo, attempts: int = 0) -> RowResult:
    """already_exists for the row's own booking; a conflict, with its message, otherwise."""
    if match.is_booking:
        return RowResult(Outcome.ALREADY_EXISTS, match.appointment, attempts=attempts)
    text = conflict_message(match, zone)
    return RowResult(Outcome.CONFLICT, match.appointment, text, attempts=attempts)


def triage_cancels(
    items: Sequence[tuple[int, CancelRequest]],
    ledger: LedgerBackend,
    unbooked: Mapping[int, Outcome] | None = None,
) -> CancelTriage:
    """Find each cancel's appointment id (given, or from the ledger's create) and skip done ones.

    `unbooked`: rows of a results workbook whose booking never happened (their outcome
    there, e.g. rejected): nothing to cancel, unless the ledger holds the reference as booked
    since (a re-run after a fix); never for a conflict (the reference is someone else's).
    """
    with_id: list[tuple[int, str, CancelRequest]] = []
    to_resolve, done = [], {}
    unbooked = unbooked or {}
    for position, request in items:
        previous = unbooked.get(position)
        if previous is not None and not _booked_since(request, previous, ledger):
            done[position] = nothing_to_cancel(previous)
            continue
        appointment_id = _known_id(request, ledger)
        if appointment_id:
            with_id.append((position, appointment_id, request))
        elif request.reference and request.reference.strip():
            to_resolve.append((position, request))
        else:
            done[position] = RowResult(
                Outcome.REJECTED, error=_("Neither an appointment id nor a reference was given.")
            )
    entries = ledger.get_many(CANCEL, [appointment_id for _, appointment_id, _ in with_id])
    to_send = []
    for position, appointment_id, request in with_id:
        entry = entries.get(appointment_id)
        if entry is not None and entry.state is EntryState.DONE:
            done[position] = RowResult(Outcome.ALREADY_CANCELLED, appointment=stored(entry))
        else:
            to_send.append((position, appointment_id, request))
    return CancelTriage(tuple(to_send), tuple(to_resolve), done)


def _booked_since(request: CancelRequest, previous: Outcome, ledger: LedgerBackend) -> bool:
    if previous is Outcome.CONFLICT:
        return False
    if request.appointment_id and request.appointment_id.strip():
        return True  # someone wrote the id in: cancel it
    reference = (request.reference or "").strip()
    return bool(reference) and ledger.find_created(reference) is not None


def nothing_to_cancel(previous: Outcome) -> RowResult:
    """A row whose booking never happened (`previous`: its outcome in the results given)."""
    words = _("Nothing to cancel: this row was not booked ({previous} in the results given).")
    text = words.format(previous=outcome_word(previous.value))
    if previous in (Outcome.FAILED, Outcome.NOT_ATTEMPTED):
        text += " " + _("If it may have been booked since, run book on its sheet again first.")
    return RowResult(Outcome.NOTHING_TO_CANCEL, error=text)


def _known_id(request: CancelRequest, ledger: LedgerBackend) -> str | None:
    if request.appointment_id and request.appointment_id.strip():
        return request.appointment_id.strip()
    if request.reference and request.reference.strip():
        created = ledger.find_created(request.reference.strip())
        return created.appointment_id if created else None
    return None


def stored(entry: LedgerEntry) -> Appointment | None:
    """The appointment the ledger kept for an entry (its last resource JSON)."""
    if entry.response:
        try:
            return parse_appointment(entry.response)
        except ValueError:
            pass
    if not entry.appointment_id:
        return None
    return Appointment(
        id=entry.appointment_id,
        reference=entry.reference,
        appointment_at=None,
        duration_in_minutes=None,
        status=entry.status,
        url=None,
    )
