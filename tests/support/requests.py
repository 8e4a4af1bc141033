"""Appointment requests built by hand, and a client for the sandbox, for the API and sending
tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from batch_scheduler.api import ApiClient
from batch_scheduler.config import ApiSettings, Secret
from batch_scheduler.models import AppointmentRequest, ClaimantIn

# a month ahead, on the hour: in the future whenever the suite runs (the sandbox refuses the past)
WHEN = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)


def booking(
    reference: str = "REF-1",
    *,
    at: datetime = WHEN,
    claimant: ClaimantIn | None = None,
    **extra: Any,
) -> AppointmentRequest:
    """A 30-minute appointment request; the claimant is "Claimant <reference>" unless given."""
    return AppointmentRequest(
        reference=reference,
        appointment_at=at,
        duration_in_minutes=30,
        claimant=claimant or ClaimantIn(name=f"Claimant {reference}"),
        **extra,
    )


def client_for(base_url: str, **extra: Any) -> ApiClient:
    """A client of the sandbox at `base_url`, with its static token."""
    return ApiClient(ApiSettings(base_url=base_url, token=Secret("sandbox-token"), **extra))
