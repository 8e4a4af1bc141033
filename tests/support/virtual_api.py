"""The sender without sockets or real waiting: a virtual clock, and the API in memory behind
the client's Wire interface. The client, ledger, engine and sweeps above them are the real
ones; only time and the network are stand-ins.

    time = VirtualTime()
    api = FakeApi(time)
    api.script("R-1", Fault.status(503))       # the next create of R-1 meets a 503
    results = asyncio.run(time.run(send_creates(..., client=api.client(), timing=time.timing)))
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from multidict import CIMultiDict

from batch_scheduler.api import ApiClient
from batch_scheduler.api.wire import Answer, Headers
from batch_scheduler.config import ApiSettings, Secret
from batch_scheduler.errors import AnswerLost
from batch_scheduler.send import Timing

T = TypeVar("T")
BASE = "http://api.invalid"
SETTLE_TURNS = 100  # event-loop turns that let every ready task run before time jumps


class VirtualTime:
    """A clock that moves only when every task waits on it: sleeping takes no real time.

    `run(work)` drives the event loop: it lets ready tasks run, and when `work` is still not
    done, jumps the clock to the earliest sleeper's wake-up time and wakes it. Work that
    waits on anything but this clock (a socket, a real timer) is reported as stuck.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def timing(self) -> Timing:
        return Timing(clock=self.clock, sleep=self.sleep)

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + delay, next(self._order), wake))
        await wake

    async def run(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(SETTLE_TURNS):
                await asyncio.sleep(0)
                if task.done():
                    break
            else:
                self._wake_next()
        return task.result()

    def _wake_next(self) -> None:
        while self._sleepers:
            at, _, wake = heapq.heappop(self._sleepers)
            if wake.done():  # its sleeper was cancelled
                continue
            self.now = max(self.now, at)
            wake.set_result(None)
            return
        raise AssertionError("stuck: the work waits, and nothing sleeps on the virtual clock")


@dataclass(frozen=True)
class Fault:
    """What one create of a reference meets instead of a plain 201."""

    kind: str  # "status", "throttle", "lost", "lost-unstored", "slow"
    value: float = 0.0

    @classmethod
    def status(cls, code: int) -> Fault:
        """That status, nothing stored."""
        return cls("status", code)

    @classmethod
    def throttle(cls, retry_after: float) -> Fault:
        """A 429 with Retry-After, nothing stored."""
        return cls("throttle", retry_after)

    @classmethod
    def lost(cls, *, stored: bool) -> Fault:
        """The connection drops before the answer: after storing it, or before."""
        return cls("lost" if stored else "lost-unstored")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Stored at once, answered `seconds` later."""
        return cls("slow", seconds)


class FakeApi:
    """The appointments API in memory, as a Wire: creates, list pages, show and cancel.

    `requests` holds (virtual time, method, what) for every request, in arrival order; what
    is the reference for a create, "page N" for a list page, the id for a show or cancel.
    `page_answers` holds statuses the next list pages meet, in order (then pages are served).
    """

    def __init__(self, time: VirtualTime, latency: float = 0.01, *, last_page: bool = True):
        self.time = time
        self.latency = latency
        self.last_page = last_page  # False: pages say nothing of the end (an empty one ends)
        self.appointments: dict[str, dict[str, Any]] = {}  # id -> resource, in creation order
        self.requests: list[tuple[float, str, str]] = []
        self.page_answers: list[int | tuple[int, float]] = []
        self._faults: dict[str, list[Fault]] = {}

    def script(self, reference: str, *faults: Fault) -> None:
        self._faults.setdefault(reference, []).extend(faults)

    def client(self) -> ApiClient:
        settings = ApiSettings(base_url=BASE, token=Secret("fake-token"))
        return ApiClient(settings, wire=self, clock=self.time.clock)

    def store(self, reference: str | int, **fields: Any) -> str:
        """Book directly (another tool did); the new id."""
        appointment_id = str(uuid.uuid4())
        self.appointments[appointment_id] = {
            "id": appointment_id, "reference": reference, "status": "scheduled", **fields
        }  # fmt: skip
        return appointment_id

    def created(self, reference: str) -> int:
        return sum(1 for item in self.appointments.values() if item["reference"] == reference)

    def times(self, method: str, what: str) -> list[float]:
        return [at for at, m, w in self.requests if (m, w) == (method, what)]

    # -------------------------------------------------------- the Wire interface

    async def exchange(
        self, method: str, url: str, headers: Headers, body: bytes | None, timeout: float
    ) -> Answer:
        parts = urlsplit(url)
        path = parts.path.removeprefix("/api/v1/appointments")
        if method == "POST" and not path:
            return await self._create(dict(parse_qsl((body or b"").decode())))
        if method == "GET" and not path:
            return await self._page(dict(parse_qsl(parts.query)))
        appointment_id = path.strip("/").removesuffix("/cancel")
        self.requests.append((self.time.now, method, appointment_id))
        await self.time.sleep(self.latency)
        found = self.appointments.get(appointment_id)
        if found is None:
            return _answer(404, {"message": "Not Found."})
        if method == "POST" and found["status"] == "cancelled":
            message = "The appointment has already been cancelled."
            return _answer(422, {"message": message, "errors": {"status": [message]}})
        if method == "POST":
            found["status"] = "cancelled"
        return _answer(200, {"data": found})

    async def aclose(self) -> None:
        return None

    async def _create(self, form: dict[str, str]) -> Answer:
        reference = form["reference"]
        self.requests.append((self.time.now, "POST", reference))
        faults = self._faults.get(reference)
        fault = faults.pop(0) if faults else Fault("none")
        await self.time.sleep(self.latency)
        if fault.kind == "status":
            return _answer(int(fault.value), {"message": "Server Error"})
        if fault.kind == "throttle":
            return _answer(429, {"message": "Too Many Attempts."}, f"{fault.value:g}")
        if fault.kind == "lost-unstored":
            raise AnswerLost("the connection was closed before an answer arrived")
        fields = {
            "appointment_at": form["appointment_at"],
            "duration_in_minutes": int(form["duration_in_minutes"]),
            "claimant": {"name": form["claimant[name]"]},
        }
        created = self.appointments[self.store(reference, **fields)]
        if fault.kind == "lost":
            raise AnswerLost("the connection was closed before an answer arrived")
        await self.time.sleep(fault.value if fault.kind == "slow" else 0.0)
        return _answer(201, {"data": created})

    async def _page(self, query: dict[str, str]) -> Answer:
        number, per_page = int(query["page"]), int(query["per_page"])
        self.requests.append((self.time.now, "GET", f"page {number}"))
        await self.time.sleep(self.latency)
        if self.page_answers:
            status = self.page_answers.pop(0)
            if isinstance(status, tuple):
                status, retry_after = status
                return _answer(status, {"message": "Too Many Attempts."}, f"{retry_after:g}")
            return _answer(status, {"message": HTTPStatus(status).phrase})
        items = list(self.appointments.values())
        body: dict[str, Any] = {"data": items[(number - 1) * per_page : number * per_page]}
        if self.last_page:
            last = max(1, -(-len(items) // per_page))
            body["meta"] = {"current_page": number, "last_page": last, "total": len(items)}
        return _answer(200, body)


def _answer(status: int, body: Any, retry_after: str | None = None) -> Answer:
    headers = CIMultiDict({"Content-Type": "application/json"})
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Answer(status, HTTPStatus(status).phrase, headers, json.dumps(body).encode())
