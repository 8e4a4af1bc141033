"""The rate limiter and retry policy, on a fake clock: nothing here sleeps in real time."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_scheduler.config import SendSettings
from batch_scheduler.send.pacing import WINDOW_MARGIN, GiveUp, RateLimiter, RetryPolicy


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def make_limiter(clock: FakeClock, rate: float, **kwargs: float) -> RateLimiter:
    return RateLimiter(rate, clock=clock, sleep=clock.sleep, **kwargs)


def times_of(clock: FakeClock, limiter: RateLimiter, count: int) -> list[float]:
    """Acquire `count` tokens one after another; the clock time at each grant."""

    async def run() -> list[float]:
        granted = []
        for _ in range(count):
            await limiter.acquire()
            granted.append(clock.now)
        return granted

    return asyncio.run(run())


def test_tokens_are_spaced_one_over_the_rate_and_each_second_keeps_a_margin() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 10, burst=1)
    granted = times_of(clock, limiter, 21)
    assert granted[0] == pytest.approx(1000.0)
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    # the 11th request waits until a full second (plus the margin) after the 1st
    expected = [0.1] * 9 + [0.1 + WINDOW_MARGIN] + [0.1] * 9 + [0.1 + WINDOW_MARGIN]
    assert gaps == pytest.approx(expected)


def test_concurrent_callers_share_the_rate_in_arrival_order() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 5, burst=1)
    order: list[tuple[int, float]] = []

    async def caller(name: int) -> None:
        await limiter.acquire()
        order.append((name, clock.now))

    async def run() -> None:
        await asyncio.gather(*(caller(i) for i in range(6)))

    asyncio.run(run())
    assert [name for name, _ in order] == list(range(6))
    expected = [1000.0 + 0.2 * i for i in range(5)] + [1001.0 + WINDOW_MARGIN]
    assert [t for _, t in order] == pytest.approx(expected)


def test_the_bucket_starts_with_one_token_not_a_burst() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 10, burst=5)
    assert times_of(clock, limiter, 3) == pytest.approx([1000.0, 1000.1, 1000.2])


def test_burst_is_capped_after_idle_time() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 10, burst=3)
    clock.now += 60  # a long idle spell earns no more than `burst` tokens
    granted = times_of(clock, limiter, 6)
    assert granted[:3] == pytest.approx([1060.0] * 3)
    assert granted[3:] == pytest.approx([1060.1, 1060.2, 1060.3])


def test_a_429_pauses_everyone_and_halves_the_rate() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 20, burst=20, hold=0.0)
    clock.now += 5  # a full bucket, to show the pause empties it
    limiter.throttle(2.0)
    assert limiter.paused_until == pytest.approx(1007.0)
    assert limiter.rate_at(1007.0) == pytest.approx(10.0)
    granted = times_of(clock, limiter, 2)
    # nothing during the pause; then tokens at the lowered (slowly rising) rate
    assert granted[0] == pytest.approx(1007.0 + 1 / 10, rel=1e-3)
    assert granted[1] - granted[0] == pytest.approx(1 / 10.2, rel=0.02)


def test_the_rate_climbs_back_slowly_and_stops_at_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 20, recovery=0.1, hold=0.0)
    limiter.throttle(1.0)
    resume = limiter.paused_until
    assert limiter.rate_at(resume) == pytest.approx(10.0)
    assert limiter.rate_at(resume + 1) == pytest.approx(12.0)  # +10% of 20 per second
    assert limiter.rate_at(resume + 4) == pytest.approx(18.0)
    assert limiter.rate_at(resume + 5) == pytest.approx(20.0)
    assert limiter.rate_at(resume + 500) == pytest.approx(20.0)


def test_a_burst_of_429s_halves_once_per_cooldown_and_never_below_the_floor() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 8, min_rate=0.5, cooldown=1.0, recovery=0.0)
    for _ in range(5):  # five answers of one burst of requests
        limiter.throttle(0.0)
    assert limiter.rate == pytest.approx(4.0)
    clock.now += 0.5
    limiter.throttle(0.0)  # still within the cooldown
    assert limiter.rate == pytest.approx(4.0)
    clock.now += 0.5
    limiter.throttle(0.0)
    assert limiter.rate == pytest.approx(2.0)
    for _ in range(20):  # a long storm: one halving per second at most, then the floor
        clock.now += 1.0
        limiter.throttle(0.0)
    assert limiter.rate == pytest.approx(0.5)


def test_no_tokens_are_earned_while_paused() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 10, burst=10, recovery=0.0)
    limiter.throttle(30.0)
    clock.now = limiter.paused_until
    assert limiter.try_acquire() == pytest.approx(1 / 5)  # empty bucket at the halved rate


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=200),
    burst=st.integers(min_value=1, max_value=20),
    idle=st.lists(st.floats(min_value=0, max_value=3), min_size=30, max_size=60),
)
def test_no_one_second_window_holds_more_than_rate_plus_burst(
    rate: float, burst: int, idle: list[float]
) -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, rate, burst=burst)

    async def run() -> list[float]:
        granted = []
        for pause in idle:
            clock.now += pause if pause > 2 else 0.0  # mostly back to back, sometimes idle
            await limiter.acquire()
            granted.append(clock.now)
        return granted

    granted = asyncio.run(run())
    for i, start in enumerate(granted):
        in_window = sum(1 for t in granted[i:] if t < start + 1.0 - 1e-9)
        assert in_window <= rate + burst + 1e-6


def test_after_a_429_the_rate_drops_to_what_got_through_and_holds() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 50, burst=1, hold=30.0, recovery=0.1)
    times_of(clock, limiter, 21)  # 21 requests at 50/s: the server lets 20 a second through
    limiter.throttle(1.0)
    resume = limiter.paused_until
    assert limiter.rate_at(resume) == pytest.approx(20)  # 21 - 1, not half (25): too fast
    assert limiter.rate_at(resume + 29) == pytest.approx(20)  # held...
    assert limiter.rate_at(resume + 31) == pytest.approx(20 + 5)  # ...then climbs


def test_a_late_429_counts_back_from_when_the_refused_request_was_sent() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 50, burst=1, hold=30.0, recovery=0.0)
    granted = times_of(clock, limiter, 21)  # the server lets 20 a second through
    clock.now = granted[-1] + 0.8  # the 429 for the 21st comes back 0.8 s later
    limiter.throttle(1.0, sent_at=granted[-1])
    # 20 got through; counted back from the answer's arrival instead, only the last ~11
    # grants would be in the second before and the rate would fall to 12.5
    assert limiter.rate_at(limiter.paused_until) == pytest.approx(20)


def test_the_window_never_grants_more_than_the_rate_in_a_second_plus_margin() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock, 20, burst=20)
    clock.now += 10  # a full bucket: the burst alone could send 20 at once, then 20 more
    granted = times_of(clock, limiter, 60)
    for i, start in enumerate(granted):
        in_window = sum(1 for t in granted[i:] if t < start + 1.0 + WINDOW_MARGIN - 1e-9)
        assert in_window <= 20


def test_limiter_refuses_a_zero_rate() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


# ---------------------------------------------------------------- the retry policy


def test_backoff_doubles_and_is_capped_without_jitter() -> None:
    policy = RetryPolicy(initial=0.5, maximum=5.0, jitter=False)
    rng = random.Random(1)
    assert [policy.backoff(n, rng) for n in range(1, 8)] == [0.5, 1, 2, 4, 5, 5, 5]
    assert policy.backoff(10_000, rng) == 5.0  # no overflow on absurd counts


def test_full_jitter_stays_within_zero_and_the_cap_and_is_seeded() -> None:
    policy = RetryPolicy(initial=1.0, maximum=8.0, jitter=True)
    waits = [policy.backoff(4, random.Random(seed)) for seed in range(300)]
    assert all(0.0 <= w <= 8.0 for w in waits)
    assert min(waits) < 1.0 and max(waits) > 7.0  # spread over the whole range: full jitter
    again = [policy.backoff(4, random.Random(seed)) for seed in range(300)]
    assert again == waits
    small = [policy.backoff(1, random.Random(seed)) for seed in range(100)]
    assert all(0.0 <= w <= 1.0 for w in small)


def test_the_retry_after_floor_holds_even_for_zero() -> None:
    policy = RetryPolicy(retry_after_floor=1.0)
    assert policy.throttle_wait(0.0) == 1.0
    assert policy.throttle_wait(None) == 1.0
    assert policy.throttle_wait(0.2) == 1.0
    assert policy.throttle_wait(7.5) == 7.5


def test_give_up_counts_retries() -> None:
    policy = RetryPolicy(max_retries=2, deadline=100.0)

    def after(retries: int, counted: bool = True) -> GiveUp | None:
        return policy.give_up(retries=retries, started=0.0, now=1.0, wait=1.0, counted=counted)

    assert after(0) is None
    assert after(1) is None
    assert after(2) is GiveUp.RETRIES
    assert after(2, counted=False) is None  # a 429's retry


def test_give_up_when_the_next_attempt_would_start_after_the_deadline() -> None:
    policy = RetryPolicy(max_retries=100, deadline=10.0)
    assert policy.give_up(retries=0, started=0.0, now=8.0, wait=2.0) is None
    assert policy.give_up(retries=0, started=0.0, now=8.0, wait=2.5) is GiveUp.DEADLINE
    assert policy.give_up(retries=0, started=0.0, now=11.0, wait=0.0, counted=False) == (
        GiveUp.DEADLINE
    )


def test_policy_from_settings() -> None:
    send = SendSettings(
        max_retries=3,
        row_deadline=12.0,
        backoff_initial=0.1,
        backoff_max=2.0,
        jitter=False,
        retry_after_floor=0.3,
    )
    assert RetryPolicy.from_settings(send) == RetryPolicy(3, 12.0, 0.1, 2.0, False, 0.3)
