"""Seeded fault decisions and the per-token rate limit.

Each decision hashes (seed, kind, request key, occurrence) instead of drawing from one shared
random stream, so the same seed injects the same faults whatever order concurrent requests
arrive in: the third attempt to create reference "A" meets the same fate on every run.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from dataclasses import dataclass

from batch_scheduler.sandbox.config import SandboxConfig


def unit(seed: int, kind: str, key: str, occurrence: int) -> float:
    """A number in [0, 1) fixed by its inputs."""
    text = f"{seed}\x1f{kind}\x1f{key}\x1f{occurrence}".encode()
    digest = hashlib.blake2b(text, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def latency(config: SandboxConfig, op: str, key: str, occurrence: int) -> float:
    """Seconds to wait before answering: the fixed latency plus seeded jitter."""
    jitter = config.latency_jitter * unit(config.seed, f"latency:{op}", key, occurrence)
    return config.latency + jitter


def injected_error(config: SandboxConfig, op: str, key: str, occurrence: int) -> int | None:
    """A 5xx status to answer instead of doing the work, or None."""
    if unit(config.seed, f"error:{op}", key, occurrence) >= config.error_rate:
        return None
    pick = unit(config.seed, f"status:{op}", key, occurrence)
    statuses = config.error_statuses
    return statuses[int(pick * len(statuses))]


def in_burst(config: SandboxConfig, number: int) -> int | None:
    """The status for API call `number` (1-based, arrival order) if it falls in the burst."""
    start = config.burst_start
    if not start or not start <= number < start + config.burst_length:
        return None
    if config.burst_status is not None:
        return config.burst_status
    statuses = config.error_statuses
    return statuses[int(unit(config.seed, "burst", "", number) * len(statuses))]


def throttled(config: SandboxConfig, op: str, key: str, occurrence: int) -> bool:
    """Whether to answer 429 (with Retry-After: throttle_retry_after) whatever the rate."""
    return unit(config.seed, f"throttle:{op}", key, occurrence) < config.throttle_rate


def spike(config: SandboxConfig, op: str, key: str, occurrence: int) -> float:
    """Seconds to wait after the work is done and before answering (0: no spike)."""
    hit = unit(config.seed, f"spike:{op}", key, occurrence) < config.spike_rate
    return config.spike_delay if hit else 0.0


def should_drop(config: SandboxConfig, op: str, key: str, occurrence: int) -> bool:
    """Whether to store the change and then close the connection without answering."""
    return unit(config.seed, f"drop:{op}", key, occurrence) < config.drop_rate


@dataclass(frozen=True)
class RateVerdict:
    limit: int
    remaining: int
    retry_after: int | None  # seconds; None when the request may go ahead

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}
        if self.retry_after is not None:
            out["Retry-After"] = str(self.retry_after)
        return out


class SlidingWindow:
    """At most `limit` requests in any window of `limit / rate` seconds (1 s for whole rates).

    Refused requests are not counted, as in Laravel's throttle: a client that waits for
    Retry-After gets through.
    """

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def take(self, rate: float, now: float) -> RateVerdict:
        limit = max(1, math.floor(rate))
        span = limit / rate
        while self.times and self.times[0] <= now - span:
            self.times.popleft()
        if len(self.times) >= limit:
            wait = self.times[0] + span - now
            return RateVerdict(limit, 0, max(1, math.ceil(wait)))
        self.times.append(now)
        return RateVerdict(limit, limit - len(self.times), None)
