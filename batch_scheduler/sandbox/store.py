"""The sandbox's memory: appointments, tokens, fault counters, request log and stats.

Requests run on the server's event loop while tests call reconfigure/reset/snapshots from other
threads, so every method takes one lock and never awaits while holding it.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from batch_scheduler.sandbox.config import SandboxConfig, with_changes
from batch_scheduler.sandbox.faults import RateVerdict, SlidingWindow
from batch_scheduler.sandbox.resource import OPTION_DEFAULTS, AppointmentRecord, stamp

DUPLICATE_MESSAGE = "The reference has already been taken."


class Access(Enum):
    OK = "ok"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"


@dataclass
class _Traffic:
    """Counters for API traffic (everything outside /_sandbox and the token endpoint)."""

    requests: int = 0
    token_requests: int = 0
    dropped: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    max_per_second: int = 0
    created: int = 0
    cancelled: int = 0


class Closing:
    """Set once, on the server's loop, when the server starts stopping; sleepers wake then.

    `sleep` is what every request's latency waits on: one future and one timer, where
    asyncio.wait_for(event.wait(), delay) made a task too (~5 % of the sandbox's CPU).
    """

    def __init__(self) -> None:
        self._set = False
        self._sleepers: set[asyncio.Future[bool]] = set()

    def set(self) -> None:
        self._set = True
        for sleeper in self._sleepers:
            if not sleeper.done():
                sleeper.set_result(True)
        self._sleepers.clear()

    async def sleep(self, delay: float) -> bool:
        """Sleep `delay` seconds, or less if the server starts stopping (then True)."""
        if self._set:
            return True
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(delay, _wake, woken)
        self._sleepers.add(woken)
        try:
            return await woken
        finally:
            timer.cancel()
            self._sleepers.discard(woken)


def _wake(sleeper: asyncio.Future[bool]) -> None:
    if not sleeper.done():
        sleeper.set_result(False)


class SandboxState:
    """All mutable state of one sandbox; safe to call from any thread."""

    def __init__(self, config: SandboxConfig) -> None:
        self._lock = threading.Lock()
        self.config = config
        self.closing = Closing()  # set on the server's loop when it starts stopping
        self._clear()

    def _clear(self) -> None:
        self._rng = random.Random(self.config.seed)
        self._records: dict[str, AppointmentRecord] = {}  # insertion order = creation order
        self._ordered: list[AppointmentRecord] = []
        self._by_reference: dict[str, set[str]] = {}  # reference -> ids, for duplicate checks
        self._tokens: dict[str, float] = {}
        self._revoked: set[str] = set()
        self._calls = 0  # API calls admitted so far, for bursts and revocation
        self._windows: dict[str, SlidingWindow] = {}
        self._occurrences: Counter[tuple[str, str]] = Counter()
        self._log: list[dict[str, Any]] = []
        self._responses: Counter[str] = Counter()
        self._arrivals: deque[float] = deque()
        self._traffic = _Traffic()
        self._started = time.monotonic()
        self._last_created = datetime.min.replace(tzinfo=UTC)
        self._meeting_ids = 0
        self._message_ids = 0

    # ------------------------------------------------------------ knobs

    def reconfigure(self, changes: Mapping[str, Any]) -> SandboxConfig:
        with self._lock:
            self.config = with_changes(self.config, changes)
            return self.config

    def reset(self) -> None:
        with self._lock:
            self._clear()

    # ------------------------------------------------------------ tokens and limits

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.config.token_lifetime
        return token

    def _revoke(self) -> None:
        self._revoked.update(self._tokens)
        self._revoked.add(self.config.static_token)
        self._tokens.clear()

    def count_call(self) -> int:
        """Number an API call (1-based, in arrival order); revokes tokens when it is time."""
        with self._lock:
            self._calls += 1
            if self._calls == self.config.revoke_tokens_at:
                self._revoke()
            return self._calls

    def check_token(self, token: str | None) -> Access:
        with self._lock:
            config = self.config
            if token is None or token in self._revoked:
                return Access.UNAUTHENTICATED
            if token in config.underprivileged_tokens:
                return Access.FORBIDDEN
            if token == config.static_token:
                return Access.OK
            expires = self._tokens.get(token)
            if expires is None or time.monotonic() >= expires:
                return Access.UNAUTHENTICATED
            return Access.OK

    def take_rate_slot(self, token: str) -> RateVerdict | None:
        """None when no limit is set; otherwise whether this token may go ahead now."""
        with self._lock:
            rate = self.config.rate_limit
            if rate is None:
                return None
            window = self._windows.setdefault(token, SlidingWindow())
            return window.take(rate, time.monotonic())

    def next_occurrence(self, op: str, key: str) -> int:
        """How many times this request key was seen before (0 the first time)."""
        with self._lock:
            seen = self._occurrences[(op, key)]
            self._occurrences[(op, key)] = seen + 1
            return seen

    # ------------------------------------------------------------ appointments

    def reference_taken(self, reference: str | None, except_id: str | None = None) -> bool:
        with self._lock:
            return self._taken(reference, except_id)

    def _taken(self, reference: str | None, except_id: str | None) -> bool:
        if reference is None or self.config.duplicate_references == "allow":
            return False
        return bool(self._by_reference.get(reference, set()) - {except_id})

    def create(self, values: Mapping[str, Any]) -> AppointmentRecord | None:
        """Store a new appointment from validated values; None if its reference is taken."""
        with self._lock:
            if self._taken(values.get("reference"), None):
                return None
            record = AppointmentRecord(
                id=self._new_id(),
                reference=values.get("reference"),
                appointment_at=values["appointment_at"],
                duration_in_minutes=values["duration_in_minutes"],
                created_at=self._now_after_last(),
                meeting_id=self._next_meeting_id(),
                room_name=f"room-{self._rng.getrandbits(48):012x}",
                room_key=f"{self._rng.getrandbits(128):032x}",
                claimant=dict(values.get("claimant", {})),
                options=dict(OPTION_DEFAULTS),
            )
            self._apply(record, values)
            self._records[record.id] = record
            self._ordered.append(record)
            self._index(record)
            self._traffic.created += 1
            return record

    def seed(self, count: int, prefix: str = "SEED") -> list[str]:
        """Store `count` scheduled appointments behind the API's back (no faults, no log):
        references PREFIX-00000, PREFIX-00001..., 30 minutes apart from 1 Dec 2026. Their ids."""
        first = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        ids = []
        for i in range(count):
            record = self.create({
                "reference": f"{prefix}-{i:05d}",
                "appointment_at": first + timedelta(minutes=30 * i),
                "duration_in_minutes": 30,
                "claimant": {"name": f"Claimant {i}"},
            })  # fmt: skip
            if record is None:
                raise ValueError(f"reference {prefix}-{i:05d} is taken")
            ids.append(record.id)
        return ids

    def update(self, record_id: str, values: Mapping[str, Any]) -> AppointmentRecord:
        with self._lock:
            record = self._records[record_id]
            self._apply(record, values)
            if "status" in values:
                record.status = values["status"]
            for key in ("appointment_at", "duration_in_minutes"):
                if key in values:
                    setattr(record, key, values[key])
            if "reference" in values:
                self._by_reference.get(record.reference or "", set()).discard(record.id)
                record.reference = values["reference"]
                self._index(record)
            record.claimant.update(values.get("claimant", {}))
            return record

    def _index(self, record: AppointmentRecord) -> None:
        if record.reference is not None:
            self._by_reference.setdefault(record.reference, set()).add(record.id)

    def _apply(self, record: AppointmentRecord, values: Mapping[str, Any]) -> None:
        """Copy the optional fields that were given into the record."""
        if "department_id" in values:
            ident = values["department_id"]
            name = self.config.departments.get(ident) if ident is not None else None
            record.department = None if name is None else (ident, name)
        if "is_interpreter_needed" in values:
            record.is_interpreter_needed = values["is_interpreter_needed"]
        if "interpreter_language" in values:
            record.interpreter_language = values["interpreter_language"]
        for key in record.options:
            if key in values:
                record.options[key] = values[key]

    def cancel(self, record_id: str, reason: str | None) -> AppointmentRecord | None:
        """Cancel; None if it was already cancelled."""
        with self._lock:
            record = self._records[record_id]
            if record.status == "cancelled":
                return None
            record.status = "cancelled"
            record.cancelled_at = datetime.now(UTC)
            record.cancellation_reason = reason
            self._traffic.cancelled += 1
            return record

    def add_message(self, record_id: str, text: str) -> dict[str, Any]:
        with self._lock:
            self._message_ids += 1
            message = {
                "id": self._message_ids,
                "appointment_id": record_id,
                "message": text,
                "created_at": stamp(datetime.now(UTC)),
            }
            self._records[record_id].messages.append(message)
            return dict(message)

    def find(self, record_id: str) -> AppointmentRecord | None:
        with self._lock:
            return self._records.get(record_id)

    def render(self, record: AppointmentRecord, base: str) -> dict[str, Any]:
        with self._lock:
            return record.render(base)

    def page(self, number: int, size: int, base: str) -> tuple[list[dict[str, Any]], int]:
        """One page of the appointments in creation order, and the total.

        Creation order is (created_at, id) order: created_at strictly increases."""
        with self._lock:
            chosen = self._ordered[(number - 1) * size : number * size]
            return [r.render(base) for r in chosen], len(self._ordered)

    def all_rendered(self, base: str) -> list[dict[str, Any]]:
        items, _ = self.page(1, 2**62, base)
        return items

    def _new_id(self) -> str:
        while True:
            ident = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            if ident not in self._records:
                return ident

    def _next_meeting_id(self) -> int:
        self._meeting_ids += 1
        return 100_000 + self._meeting_ids

    def _now_after_last(self) -> datetime:
        """Now, but strictly after the previous creation, so creation order is list order."""
        now = max(datetime.now(UTC), self._last_created + timedelta(microseconds=1))
        self._last_created = now
        return now

    # ------------------------------------------------------------ traffic, log and stats

    def arrive(self, counted: bool, token_call: bool) -> float:
        """Note a request arriving; returns its arrival time (seconds since start)."""
        now = time.monotonic()
        with self._lock:
            if token_call:
                self._traffic.token_requests += 1
            if counted:
                traffic = self._traffic
                traffic.requests += 1
                traffic.in_flight += 1
                traffic.max_in_flight = max(traffic.max_in_flight, traffic.in_flight)
                self._arrivals.append(now)
                while self._arrivals[0] <= now - 1.0:
                    self._arrivals.popleft()
                traffic.max_per_second = max(traffic.max_per_second, len(self._arrivals))
            return now - self._started

    def depart(self, counted: bool, entry: dict[str, Any]) -> None:
        with self._lock:
            if counted:
                self._traffic.in_flight = max(0, self._traffic.in_flight - 1)
                if entry["dropped"]:
                    self._traffic.dropped += 1
                elif entry["status"] is not None:
                    self._responses[str(entry["status"])] += 1
            self._log.append(entry)

    def stats(self) -> dict[str, Any]:
        """Counts since start or reset, over API calls (not /_sandbox, not the token endpoint).

        responses: answers by status ("201": n); dropped calls got none. max_per_second: most
        calls arriving in any sliding one-second window. created counts dropped creates too.
        """
        with self._lock:
            traffic = self._traffic
            return {
                "requests": traffic.requests,
                "responses": dict(sorted(self._responses.items())),
                "dropped": traffic.dropped,
                "max_in_flight": traffic.max_in_flight,
                "max_per_second": traffic.max_per_second,
                "created": traffic.created,
                "cancelled": traffic.cancelled,
                "in_flight": traffic.in_flight,
                "token_requests": traffic.token_requests,
                "appointments": len(self._records),
            }

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]
