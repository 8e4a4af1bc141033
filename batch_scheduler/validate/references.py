"""The one reference identity: what a row without a reference is called, the same on every run.

Exactly once rests on it: the ledger and the API's duplicate check know a booking by its
reference, so a row given none gets one made from who and when, never from luck or the
run. Two rules, one hash:
- a `book` row: the claimant and the slot (`generated_reference`);
- a claimant `allocate` places: the claimant and the pool's week, never the slot
  (`claimant_reference`), so a re-run that lands them in another slot is still "already
  booked".
Both fold the name (`fold_person_name`) so retyping it with other capitals or spacing gives
the same reference.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from datetime import UTC, date, datetime

REFERENCE_PREFIX = "BS-"


def fold_person_name(name: str) -> str:
    """A person's name as the identity sees it: Unicode NFKC, case-folded, each run of spaces
    made one ("Siân  LLEWELYN" -> "siân llewelyn"); accents and punctuation stay."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def generated_reference(name: str, appointment_at_utc: datetime, date_of_birth: date | None) -> str:
    """A reference for a book row that has none.

    "BS-" + the first 16 characters of base32(sha256("folded name|dob ISO or ''|UTC ISO")).
    The slot is the UTC instant, so the same wall-clock time written in any accepted shape
    gives the same reference.
    """
    if appointment_at_utc.tzinfo is None:
        raise ValueError("appointment_at_utc must be timezone-aware")
    instant = appointment_at_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _reference(f"{fold_person_name(name)}|{_birth(date_of_birth)}|{instant}")


def claimant_reference(name: str, date_of_birth: date | None, week: date) -> str:
    """A reference for a claimant given none: the same for them all that week, whatever the slot.

    Made from the claimant (folded name, birth date) and the pool's week, never the slot: if the
    slots change between runs and the claimant lands in another slot, the reference, and so the
    ledger and the API's duplicate check, still say "already booked" instead of booking twice.
    """
    return _reference(f"allocate|{fold_person_name(name)}|{_birth(date_of_birth)}|{week}")


def _birth(date_of_birth: date | None) -> str:
    return date_of_birth.isoformat() if date_of_birth else ""


def _reference(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return REFERENCE_PREFIX + base64.b32encode(digest).decode("ascii")[:16]
