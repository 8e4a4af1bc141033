"""Pacing: how fast requests may go out, and how long to wait before trying a row again.

Small and pure: the limiter takes its clock and sleep function as arguments, so tests drive
it with a fake clock instead of waiting, and the retry policy is arithmetic on numbers and a
seeded `random.Random`.

    Timing        the clock and the sleep a send runs on: real, or a test's virtual ones
    RateLimiter   an adaptive token bucket shared by every request of a run
    RetryPolicy   capped exponential backoff with full jitter, a retry count, a deadline
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from batch_scheduler.config import SendSettings

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

MIN_RATE = 0.5  # requests per second: a 429 storm never slows us below this
RECOVERY = 0.1  # of the configured rate regained per second without a 429
DECREASE_COOLDOWN = 1.0  # seconds: the 429s of one burst halve the rate once, not once each
HOLD = 30.0  # seconds after a 429 pause before the rate starts climbing again
# Servers count requests per sliding (or fixed) second, and see ours a little later or
# earlier than we send them: never more than floor(rate) in any WINDOW + WINDOW_MARGIN.
WINDOW = 1.0
WINDOW_MARGIN = 0.03
WINDOW_MAX_RATE = 1000.0  # above this the window is not tracked (no server limit that high)
_EPSILON = 1e-9


@dataclass(frozen=True)
class Timing:
    """The clock and the sleep a send runs on: time.monotonic and asyncio.sleep by default.

    The one switch that turns waiting off in tests (hynek/stamina's idea): give a virtual
    clock's `clock` and `sleep`, and every wait of the send (queue, limiter, backoff, 429
    pauses, sweeps, the drain) passes on it, in no real time.
    """

    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep


REAL_TIME = Timing()


class RateLimiter:
    """An adaptive token bucket: at most `rate` requests per second, `burst` at once.

    The bucket starts with one token (no initial burst) and holds at most `burst`. For
    rates up to WINDOW_MAX_RATE it also never grants more than floor(rate) in any one
    second plus WINDOW_MARGIN, so a server counting per second never sees more than the
    rate, whatever the jitter. A 429 (`throttle`) pauses every caller for the server's
    wait, empties the bucket and lowers the rate (once per cooldown, never below
    `min_rate`): to what the server let through, if below the current rate, else to
    half, and never below a quarter at once. What got through: the grants of the second
    before the refused request was sent (`sent_at`; else before now), less that request
    (the window margin keeps us under it; a count too high meets the next 429 and is
    lowered again). After the pause the rate holds for `hold` seconds, then climbs back
    linearly, `recovery` x the configured rate per second, up to the configured rate.
    Callers are served first come, first served.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        min_rate: float = MIN_RATE,
        recovery: float = RECOVERY,
        cooldown: float = DECREASE_COOLDOWN,
        hold: float = HOLD,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.target = float(rate)
        self.burst = max(1.0, float(burst if burst is not None else rate))
        self.min_rate = min(min_rate, self.target)
        self._recovery = recovery
        self._cooldown = cooldown
        self._hold = hold
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._base = self.target  # the rate at `_since`, from which it climbs again
        self._since = now
        self._last_decrease = -math.inf
        self._paused_until = -math.inf
        self._tokens = 1.0
        self._stamp = now
        self._lock = asyncio.Lock()
        tracked = self.target <= WINDOW_MAX_RATE
        self._granted: deque[float] | None = (
            # twice the window: grants after a refused request must not push out the ones
            # before it (see _lowered)
            deque(maxlen=2 * (math.floor(self.target) + 1)) if tracked else None
        )

    def rate_at(self, now: float) -> float:
        """The allowed rate at `now`: the last lowered rate plus the recovery since."""
        climbed = self._recovery * self.target * max(0.0, now - self._since - self._hold)
        return min(self.target, self._base + climbed)

    @property
    def rate(self) -> float:
        return self.rate_at(self._clock())

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def try_acquire(self) -> float:
        """Take a token now and return 0, or return how long to wait before asking again."""
        now = self._clock()
        self._refill(now)
        if now < self._paused_until:
            return self._paused_until - now
        rate = self.rate_at(now)
        granted = self._granted
        if granted is not None:
            limit = max(1, math.floor(rate + _EPSILON))
            if len(granted) >= limit:
                opens = granted[-limit] + WINDOW + WINDOW_MARGIN
                if now < opens:
                    return opens - now
        if self._tokens >= 1.0 - _EPSILON:
            self._tokens -= 1.0
            if granted is not None:
                granted.append(now)
            return 0.0
        return (1.0 - self._tokens) / rate

    async def acquire(self) -> None:
        """Wait for a token (in arrival order, so no caller starves)."""
        async with self._lock:
            while (wait := self.try_acquire()) > 0:
                await self._sleep(wait)

    def throttle(self, wait: float, sent_at: float | None = None) -> None:
        """The server said 429 to the request sent at `sent_at` (this limiter's clock):
        pause everyone for `wait` seconds and lower the rate."""
        now = self._clock()
        self._refill(now)
        current = self.rate_at(now)
        if now - self._last_decrease >= self._cooldown:
            refused = now if sent_at is None else min(sent_at, now)
            current = max(self.min_rate, self._lowered(current, refused))
            self._last_decrease = now
        self._paused_until = max(self._paused_until, now + max(0.0, wait))
        self._base = current
        self._since = self._paused_until
        self._tokens = 0.0

    def _lowered(self, current: float, refused: float) -> float:
        """The rate after a 429: a share of what got through before `refused`, or half.

        Counting back from the refused request's send time, not from when its answer came,
        keeps the grants the server saw in its window: counted from the answer, the oldest
        had slipped out and a 20/s limit was taken for 18/s.
        """
        lowered = current / 2
        if self._granted is not None:
            count = sum(1 for t in self._granted if refused - WINDOW < t <= refused + _EPSILON)
            through = count - 1  # the refused request itself did not get through
            if 0 < through < current:
                lowered = through
        return max(lowered, current / 4)

    def _refill(self, now: float) -> None:
        """Add the tokens earned since the last look; none are earned while paused.

        The rate climbs linearly, so the trapezoid is exact on the climb and slightly
        conservative where it meets the cap.
        """
        start = max(self._stamp, self._paused_until)
        if now > start:
            earned = (now - start) * (self.rate_at(start) + self.rate_at(now)) / 2
            self._tokens = min(self.burst, self._tokens + earned)
        self._stamp = max(self._stamp, now)


class GiveUp(StrEnum):
    """Why a row gets no further retry."""

    RETRIES = "retries"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a row again (see stamina's one-policy idea).

    `max_retries` counts retries beyond the first attempt; `deadline` bounds the time from a
    row's first attempt to the start of its last one. 429 waits (`throttle_wait`) never go
    below `retry_after_floor`, whatever the Retry-After header says.
    """

    max_retries: int = 6
    deadline: float = 300.0
    initial: float = 0.5
    maximum: float = 30.0
    jitter: bool = True
    retry_after_floor: float = 1.0

    @classmethod
    def from_settings(cls, settings: SendSettings) -> RetryPolicy:
        return cls(
            max_retries=settings.max_retries,
            deadline=settings.row_deadline,
            initial=settings.backoff_initial,
            maximum=settings.backoff_max,
            jitter=settings.jitter,
            retry_after_floor=settings.retry_after_floor,
        )

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (1-based): full jitter below a capped doubling."""
        cap = min(self.maximum, self.initial * 2.0 ** min(max(retry - 1, 0), 60))
        return rng.uniform(0.0, cap) if self.jitter else cap

    def throttle_wait(self, retry_after: float | None) -> float:
        """The wait after a 429: the server's Retry-After, but never below the floor."""
        return max(retry_after or 0.0, self.retry_after_floor)

    def give_up(
        self, *, retries: int, started: float, now: float, wait: float, counted: bool = True
    ) -> GiveUp | None:
        """None if a retry after `wait` is allowed, else the reason it is not.

        `retries` is how many counted retries the row has had; an uncounted retry (a 429,
        where our own limiter adapts) is bounded by the deadline only.
        """
        if counted and retries >= self.max_retries:
            return GiveUp.RETRIES
        if now + wait - started > self.deadline:
            return GiveUp.DEADLINE
        return None
