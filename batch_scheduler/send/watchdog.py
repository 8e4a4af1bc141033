"""Before and during a send: is the API there, and does it still answer?

`check_access` fails fast before anything is sent (bad credentials; an API that cannot be
reached at all after a few tries). `watch_contact` runs beside the send and stops it (as
Ctrl-C would: drain, write partial results) when the API has gone silent for too long;
`Stopped` records why a send stopped early, for the run's report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from batch_scheduler.api import ApiClient
from batch_scheduler.config import Settings
from batch_scheduler.errors import ApiUnreachable, AuthError
from batch_scheduler.i18n import _
from batch_scheduler.models import ApiResult, ResultKind

log = logging.getLogger(__name__)


@dataclass
class Stopped:
    """Why a send stopped before every row was done: a signal, the API lost mid-run, or the
    ledger's database lost mid-run (`unreachable` is true for both: exit 4)."""

    interrupted: bool = False
    api_lost: bool = False
    ledger_lost: bool = False

    @property
    def unreachable(self) -> bool:
        return self.api_lost or self.ledger_lost

    @property
    def reason(self) -> str | None:
        if self.ledger_lost:
            return "ledger-unavailable"
        if self.api_lost:
            return "api-unreachable"
        return "interrupted" if self.interrupted else None


async def check_access(client: ApiClient, settings: Settings) -> None:
    """Fail fast: bad credentials stop the run; so does an API that cannot be reached at all
    (after a few tries over ~15 s by default), before anything is sent."""
    assert settings.api is not None
    host = urlsplit(settings.api.base_url).netloc
    waits = [settings.send.backoff_initial * 2**n for n in range(1, 5)]
    for wait in [*waits, None]:
        access = await client.check_access()
        if access.kind is ResultKind.FATAL:
            raise AuthError(_refused_words(host, access))
        if access.status_code is not None or access.kind is ResultKind.SUCCESS:
            return  # it answers; any other trouble is the sender's to ride out
        if wait is None:
            raise ApiUnreachable(
                _(
                    "Could not reach the API at {host}: {why}. Nothing was sent. Check the "
                    "base URL, the network (proxy, firewall) and, for a private certificate "
                    "authority, SSL_CERT_FILE; then run again."
                ).format(host=host, why=access.message)
            )
        log.warning("the API cannot be reached yet (%s); trying again", access.message)
        await asyncio.sleep(wait)


def _refused_words(host: str, access: ApiResult[Any]) -> str:
    """Why the first call was refused, and what to check: once, in plain words."""
    if access.status_code == 403:
        return _(
            "The API at {host} accepted our credentials but does not allow them to read "
            "appointments (HTTP 403). Ask your SQOD administrator to give this client access "
            "to appointments. Nothing was sent."
        ).format(host=host)
    return _(
        "The API at {host} refused our credentials (HTTP {status}). Check "
        "BATCH_SCHEDULER_TOKEN, or BATCH_SCHEDULER_CLIENT_ID and BATCH_SCHEDULER_CLIENT_SECRET, "
        "and that they are for this base URL. Nothing was sent."
    ).format(host=host, status=access.status_code or 401)


async def watch_contact(
    client: ApiClient, settings: Settings, stop: asyncio.Event, stopped: Stopped
) -> None:
    """Stop the run (as for Ctrl-C: drain, write partial results) when the API has not
    answered for `send.unreachable_after` seconds while tries kept failing."""
    limit = settings.send.unreachable_after
    while not stop.is_set():
        await asyncio.sleep(min(1.0, limit / 4))
        silent = client.contact.silent_for(time.monotonic())
        if silent >= limit:
            log.error("no answer from the API for %.0f s: stopping the run", silent)
            stopped.api_lost = True
            stop.set()
