"""The one paging loop over the account's appointment list (a sweep).

A sweep reads every page once and keeps the appointments carrying the references asked
about: creates use it to settle unknown outcomes (was it stored?) and, before the first
create, to learn which references the account already holds (existing.py, which may start
past the pages it has read before and sees every page, to remember it); cancels use it to
find the ids of rows named by reference only. The API documents no filter, so every item is
checked here. Pages go through the run's limiter and slots like every other request, and a page
that fails is tried again under the run's retry policy (a 429 waits its Retry-After and
slows the limiter).

A sweep never raises for an answer: it returns what it found, or why it could not finish
(a page kept failing, or the credentials were refused). It raises RunStopping when the run
stops meanwhile.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from batch_scheduler.api.classify import describe
from batch_scheduler.i18n import _
from batch_scheduler.models import ApiResult, Appointment, Page, ResultKind
from batch_scheduler.send.engine import REFUSED, Engine

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    """What one sweep found: appointments by reference, or why it stopped short."""

    found: dict[str, list[Appointment]] = field(default_factory=dict)
    failed: str | None = None  # a page kept failing: which, and its last answer, in words
    refused: str | None = None  # the API refused the credentials: its message
    status: int | None = None  # the last answer's HTTP status, when one failed


async def sweep(
    engine: Engine[Any],
    references: Iterable[str],
    *,
    first_page: int = 1,
    on_page: Callable[[int, Page], None] | None = None,
) -> Swept:
    """Page through the list once, from `first_page` to the end; the appointments carrying
    each of `references`. `on_page` sees every page read (its number and the page)."""
    wanted = set(references)
    found: dict[str, list[Appointment]] = {}
    seen: set[str] = set()
    engine.stats.sweeps += 1
    number = first_page
    while True:
        page = await read_page(engine, number)
        if isinstance(page, Swept):
            return page
        if on_page is not None:
            on_page(number, page)
        for item in page.items:
            if item.reference in wanted and item.id not in seen:
                seen.add(item.id)
                found.setdefault(item.reference, []).append(item)
        if is_last(page, number):
            break
        number += 1
    logger.debug(
        "sweep %d: %d page(s), %d of %d found", engine.stats.sweeps, number, len(found), len(wanted)
    )
    return Swept(found)


def is_last(page: Page, number: int) -> bool:
    """True when no page follows page `number`: the list says so, or this one is empty."""
    return not page.items or (page.last_page is not None and number >= page.last_page)


async def read_page(engine: Engine[Any], number: int) -> Page | Swept:
    """One page, tried again under the retry policy; a Swept when it cannot be had."""
    per_page = engine.settings.list_per_page
    return await read(
        engine,
        lambda: engine.client.list_page(number, per_page),
        _("page {number} of the list").format(number=number),
    )


async def read(
    engine: Engine[Any], call: Callable[[], Awaitable[ApiResult[T]]], what: str
) -> T | Swept:
    """One read (a page, an appointment), tried again under the retry policy; a Swept when
    it cannot be had (`what` names it in the words of `failed`). A 404 is not retried."""
    policy = engine.policy
    for retry in itertools.count(1):
        await engine.limiter.acquire()
        sent_at = engine.clock()
        result = await engine.read(call)
        if result.kind is ResultKind.SUCCESS and result.value is not None:
            return result.value
        if result.kind is ResultKind.FATAL:
            return Swept(refused=result.message or _(REFUSED))
        if result.kind is ResultKind.REJECTED or retry > policy.max_retries:
            return Swept(failed=f"{what}: {describe(result)}", status=result.status_code)
        if result.status_code == 429:
            engine.stats.throttled += 1
            wait = policy.throttle_wait(result.retry_after)
            engine.limiter.throttle(wait, sent_at=sent_at)
        else:
            wait = policy.backoff(retry, engine.rng)
        engine.stats.retries += 1
        await engine.sleep(wait)
    raise AssertionError("unreachable")
