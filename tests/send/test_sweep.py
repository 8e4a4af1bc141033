"""The one paging loop over the account's list: every page once, each item checked, failing
pages retried under the run's policy. On the virtual clock against the API in memory, and
over loopback against the sandbox for a list of real length."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.api import ApiClient
from batch_scheduler.config import SendSettings
from batch_scheduler.ledger import Ledger
from batch_scheduler.models import ResultKind
from batch_scheduler.sandbox import RunningSandbox
from batch_scheduler.send.engine import Engine
from batch_scheduler.send.pacing import REAL_TIME, Timing
from batch_scheduler.send.setup import Setup
from batch_scheduler.send.sweep import Swept, sweep
from tests.support.requests import booking, client_for
from tests.support.virtual_api import BASE, FakeApi, VirtualTime

SETTINGS = SendSettings(
    rate=1000.0,
    concurrency=4,
    max_retries=3,
    backoff_initial=0.5,
    jitter=False,
    retry_after_floor=1.0,
    list_per_page=2,
)


def swept(
    tmp_path: Path,
    client: Callable[[], ApiClient],
    references: set[str],
    *,
    settings: SendSettings = SETTINGS,
    timing: Timing = REAL_TIME,
    drive: Callable[[Any], Awaitable[Any]] | None = None,
) -> tuple[Swept, Engine[Any]]:
    """One sweep for `references` through a real engine (its limiter, slots, policy)."""

    async def run() -> tuple[Swept, Engine[Any]]:
        with Ledger.open(tmp_path / "state", base_url=BASE) as ledger:
            async with client() as api_client:
                setup = Setup(api_client, ledger, settings, "sweep", rng=random.Random(1),
                              timing=timing)  # fmt: skip
                engine: Engine[Any] = Engine(setup)
                return await sweep(engine, references), engine

    if drive is None:
        return asyncio.run(run())

    async def driven() -> tuple[Swept, Engine[Any]]:
        result: tuple[Swept, Engine[Any]] = await drive(run())
        return result

    return asyncio.run(driven())


def in_memory(tmp_path: Path, api: FakeApi, references: set[str], **kw: Any) -> Swept:
    result, _ = swept(tmp_path, api.client, references, timing=api.time.timing,
                      drive=api.time.run, **kw)  # fmt: skip
    return result


def gets(api: FakeApi) -> list[str]:
    return [what for _, method, what in api.requests if method == "GET"]


def test_a_sweep_walks_every_page_once(tmp_path: Path) -> None:
    api = FakeApi(VirtualTime())
    ids = {reference: api.store(reference) for reference in "ABCDE"}

    result = in_memory(tmp_path, api, {"A", "C", "E", "Z"})

    assert {ref: [item.id for item in items] for ref, items in result.found.items()} == {
        "A": [ids["A"]], "C": [ids["C"]], "E": [ids["E"]]
    }  # fmt: skip
    assert gets(api) == ["page 1", "page 2", "page 3"]  # 5 items, 2 a page
    assert result.failed is None and result.refused is None


def test_each_items_reference_is_checked_here(tmp_path: Path) -> None:
    """The API documents no filter: the sweep matches references itself, integers too."""
    api = FakeApi(VirtualTime())
    first, _, numeric, again, _ = [api.store(ref) for ref in ("X", "Y", 42, "X", "XX")]

    result = in_memory(tmp_path, api, {"X", "42"})

    assert {ref: [item.id for item in items] for ref, items in result.found.items()} == {
        "X": [first, again], "42": [numeric]
    }  # fmt: skip


def test_an_empty_page_ends_a_list_that_does_not_say_where_it_ends(tmp_path: Path) -> None:
    api = FakeApi(VirtualTime(), last_page=False)
    api.store("A")

    result = in_memory(tmp_path, api, {"A"}, settings=replace(SETTINGS, list_per_page=100))

    assert list(result.found) == ["A"]
    assert gets(api) == ["page 1", "page 2"]


def test_a_busy_page_is_tried_again_after_its_wait(tmp_path: Path) -> None:
    api = FakeApi(VirtualTime(), latency=0.01)
    api.store("A")
    api.page_answers = [(429, 0.0), 503]

    result, engine = swept(tmp_path, api.client, {"A"}, timing=api.time.timing,
                           drive=api.time.run)  # fmt: skip

    assert list(result.found) == ["A"]
    first, second, third = api.times("GET", "page 1")
    assert second - first >= 0.01 + 1.0  # Retry-After 0, but never below the floor
    assert third - second == pytest.approx(0.01 + 1.0)  # the backoff before retry 2
    assert (engine.stats.throttled, engine.stats.retries, engine.stats.requests) == (1, 2, 3)


def test_a_page_that_keeps_failing_ends_the_sweep_in_plain_words(tmp_path: Path) -> None:
    api = FakeApi(VirtualTime())
    api.page_answers = [502] * 10

    result = in_memory(tmp_path, api, {"A"})

    assert result.failed == "page 1 of the list: 502 (bad gateway)"
    assert gets(api) == ["page 1"] * (SETTINGS.max_retries + 1)


def test_a_rejected_page_is_not_tried_again(tmp_path: Path) -> None:
    api = FakeApi(VirtualTime())
    api.page_answers = [404]

    result = in_memory(tmp_path, api, {"A"})

    assert result.failed == "page 1 of the list: 404 (not found)"
    assert gets(api) == ["page 1"]


def test_refused_credentials_end_the_sweep_with_the_apis_words(tmp_path: Path) -> None:
    api = FakeApi(VirtualTime())
    api.page_answers = [403]

    result = in_memory(tmp_path, api, {"A"})

    assert result.refused == "These credentials are not allowed to do this (HTTP 403: Forbidden)."
    assert result.found == {} and gets(api) == ["page 1"]


# ---------------------------------------------------------------- a real list, over loopback


async def create_many(client: ApiClient, references: list[str]) -> None:
    for start in range(0, len(references), 32):
        batch = references[start : start + 32]
        results = await asyncio.gather(*(client.create(booking(r)) for r in batch))
        assert {r.kind for r in results} == {ResultKind.SUCCESS}


def seeded(sandbox: RunningSandbox, references: list[str]) -> None:
    async def run() -> None:
        async with client_for(sandbox.base_url) as client:
            await create_many(client, references)

    asyncio.run(run())


def test_a_sweep_of_250_appointments_finds_every_one(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    references = [f"MANY-{n:03d}" for n in range(250)]
    seeded(sandbox, references)

    result, engine = swept(tmp_path, lambda: client_for(sandbox.base_url), set(references),
                           settings=replace(SETTINGS, list_per_page=100))  # fmt: skip

    assert sorted(result.found) == references
    assert len({item.id for items in result.found.values() for item in items}) == 250
    assert engine.stats.requests == 3


def test_a_sweep_finds_every_appointment_sharing_a_reference(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sandbox.reconfigure(duplicate_references="allow")
    seeded(sandbox, ["FIND-ME", "OTHER-1", "FIND-ME-NOT", "FIND-ME", "OTHER-2"])

    result, _ = swept(tmp_path, lambda: client_for(sandbox.base_url), {"FIND-ME", "NOBODY"})

    assert [item.reference for item in result.found["FIND-ME"]] == ["FIND-ME", "FIND-ME"]
    assert "NOBODY" not in result.found
