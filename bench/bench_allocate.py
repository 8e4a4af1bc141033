"""Plan 10,000 claimants over 5,000 slots (the allocator alone, data already validated).

Target (issue 7): <= 2 s. Slots: four weeks of weekdays, three departments, a Welsh and a
Polish interpreter on some, capacity 1-3; claimants: mostly with a department, one in six
needing an interpreter, about half with a date window. Seeded, so every run plans the same.
The figure is the median wall time of several runs of both strategies (CPU time shown too).
Usage: python -m bench.bench_allocate [--quick]
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta

from batch_scheduler.allocate import Strategy
from batch_scheduler.allocate.matcher import Claimant, Slot, plan
from bench.common import Figure, figure, run_alone

MONDAY = date(2026, 11, 30)
LANGUAGES = (None, None, None, None, "Welsh", "Polish")


def make_slots(count: int, rng: random.Random) -> list[Slot]:
    days = [
        MONDAY + timedelta(days=d) for d in range(28) if (MONDAY + timedelta(days=d)).weekday() < 5
    ]
    slots = []
    for i in range(count):
        day = days[rng.randrange(len(days))]
        local = datetime(day.year, day.month, day.day, 9 + rng.randrange(8), rng.choice((0, 30)))
        slots.append(
            Slot(i, i + 2, local.replace(tzinfo=UTC), local, 30, rng.choice((1, 2, 3)),
                 rng.choice(LANGUAGES), rng.choice((1, 1, 2, 3)))
        )  # fmt: skip
    return slots


def make_claimants(count: int, rng: random.Random) -> list[Claimant]:
    claimants = []
    for i in range(count):
        earliest = latest = None
        if rng.random() < 0.5:
            earliest = MONDAY + timedelta(days=rng.randrange(20))
            latest = earliest + timedelta(days=rng.randrange(1, 10))
        language = rng.choice(("Welsh", "Polish", "Arabic")) if rng.random() < 1 / 6 else None
        department = rng.choice((None, 1, 2, 3, 3))
        claimants.append(Claimant(i, i + 2, department, language, earliest, latest))
    return claimants


def figures(quick: bool) -> list[Figure]:
    rng = random.Random(7)
    claimants, slots = make_claimants(10_000, rng), make_slots(5_000, rng)
    runs = 2 if quick else 5
    out = []
    for strategy in Strategy:
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            result = plan(claimants, slots, strategy)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        note = f"{len(result.placements)} placed; CPU median {sorted(cpus)[len(cpus) // 2]:.2f} s"
        out.append(figure(f"allocate 10k x 5k ({strategy})", walls, "s", 2.0, note=note))
    return out


def main() -> None:
    run_alone(figures, __doc__)


if __name__ == "__main__":
    main()
