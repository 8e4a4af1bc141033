"""The allocator: pair claimants with free slots, and say why anyone was left out.

Pure: claimants and slots in, a Plan out; no files, no clock, no personal data (a Claimant
here is only what matching needs). The same input always gives the same plan.

Rules. Claimants are served one at a time, in turn order (see `Strategy`). Each gets the
earliest slot, by local day then start (then the order the slots were given), that
- is of the claimant's department, when they give one (a slot without a department is only
  offered to claimants who give none);
- offers the claimant's interpreter language (compared ignoring case and spacing), when
  they need an interpreter; claimants who need none may take any slot;
- falls on a local day within the claimant's earliest..latest dates (either may be open);
- still has room (a slot takes at most `capacity` claimants).
A claimant is placed at most once. One who cannot be placed is `Unplaced` with the first
reason that applies: no slot of their department at all, no slot with their language, no
matching slot in their window, or every matching slot in the window already full.

Speed: slots sit in "pools" keyed by (department or any, language or any), each sorted by
time, with a union-find "next slot with room" pointer. Serving a claimant is one bisect and
an almost-constant find in one pool; a slot that fills is closed in its (up to) four pools.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from batch_scheduler.i18n import _

ANY = None  # a pool key part that matches every department or language


class Strategy(StrEnum):
    """Who is served first. Within each group claimants keep their sheet order."""

    FIRST_FIT = "first-fit"  # sheet order: what ops wrote first is served first
    # Claimants who need an interpreter first, then everyone else. Interpreter slots are
    # scarce; in sheet order a claimant who needs none may take the only Welsh slot of the
    # week before the Welsh speaker's turn. The cost: someone higher on the sheet may get a
    # later slot, or none, because an interpreter claimant lower down was served first.
    INTERPRETER_FIRST = "interpreter-first"


class Reason(StrEnum):
    NO_USABLE_SLOT = "no-usable-slot"  # every slot row has errors (e.g. all in the past)
    NO_DEPARTMENT_SLOT = "no-department-slot"
    NO_LANGUAGE_SLOT = "no-language-slot"
    NO_SLOT_IN_WINDOW = "no-slot-in-window"
    ALL_FULL = "all-slots-full"


@dataclass(frozen=True, slots=True)
class Slot:
    id: int  # the slot's position on its sheet (0-based)
    row: int  # the Excel row on the Slots sheet, for people
    start: datetime  # UTC
    local: datetime  # naive wall-clock time in the sheet's time zone; its date is the day
    duration: int
    department: int | None = None
    language: str | None = None  # the interpreter language offered, as written
    capacity: int = 1


@dataclass(frozen=True, slots=True)
class Claimant:
    id: int  # the claimant's position on its sheet (0-based)
    row: int  # the Excel row on the Claimants sheet
    department: int | None = None
    language: str | None = None  # the interpreter language needed; None: no interpreter
    earliest: date | None = None
    latest: date | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    claimant: Claimant
    slot: Slot
    turn: int  # 0-based position in the serving order


@dataclass(frozen=True, slots=True)
class Unplaced:
    claimant: Claimant
    turn: int
    reason: Reason
    words: str  # the reason in plain words (the current language), for the plan workbook


@dataclass(frozen=True)
class Plan:
    strategy: Strategy
    placements: tuple[Placement, ...]  # in turn order
    unplaced: tuple[Unplaced, ...]  # in turn order
    used: tuple[int, ...]  # claimants placed in each slot, in the order the slots were given


def fold_language(text: str) -> str:
    """Languages match ignoring case, accents' encoding and spacing: "welsh " == "Welsh"."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def serving_order(claimants: Sequence[Claimant], strategy: Strategy) -> list[Claimant]:
    """The order claimants are served in; stable, so the sheet order holds among equals."""
    if strategy is Strategy.INTERPRETER_FIRST:
        return sorted(claimants, key=lambda c: c.language is None)
    return list(claimants)


def plan(
    claimants: Sequence[Claimant],
    slots: Sequence[Slot],
    strategy: Strategy = Strategy.FIRST_FIT,
    *,
    department_names: Mapping[int, str] | None = None,
    left_out: str | None = None,
) -> Plan:
    """Serve every claimant in turn; see the module docstring for the rules.

    `left_out` says which slot rows could not be used and why ("all 12 slot rows on the
    Slots sheet are in the past"), so a claimant left without a slot is told the truth.
    """
    index = _Index(slots, left_out)
    names = department_names or {}
    placements: list[Placement] = []
    unplaced: list[Unplaced] = []
    for turn, claimant in enumerate(serving_order(claimants, strategy)):
        slot = index.take(claimant)
        if slot is not None:
            placements.append(Placement(claimant, slot, turn))
        else:
            reason, words = index.why_not(claimant, names)
            unplaced.append(Unplaced(claimant, turn, reason, words))
    return Plan(strategy, tuple(placements), tuple(unplaced), tuple(index.used))


# ---------------------------------------------------------------- the index


PoolKey = tuple[int | None, str | None]


class _Pool:
    """Slots of one kind in time order, and which of them still have room."""

    def __init__(self) -> None:
        self.slots: list[Slot] = []
        self.positions: list[int] = []  # each slot's position in the slots given to plan()
        self.days: list[int] = []  # local day ordinals, ascending
        self.parent: list[int] = []  # union-find: i -> a later-or-equal position with room

    def add(self, slot: Slot, given: int) -> int:
        self.slots.append(slot)
        self.positions.append(given)
        self.days.append(slot.local.toordinal())
        return len(self.slots) - 1

    def freeze(self) -> None:
        self.parent = list(range(len(self.slots) + 1))  # the last one: "none left"

    def first_with_room(self, position: int) -> int:
        """The first position >= `position` whose slot has room (len(slots) if none)."""
        parent = self.parent
        root = position
        while parent[root] != root:
            root = parent[root]
        while parent[position] != root:  # path compression
            parent[position], position = root, parent[position]
        return root

    def close(self, position: int) -> None:
        self.parent[position] = position + 1

    def window(self, earliest: date | None, latest: date | None) -> tuple[int, int]:
        """Positions [lo, hi) of the slots on days earliest..latest."""
        lo = bisect_left(self.days, earliest.toordinal()) if earliest else 0
        hi = bisect_right(self.days, latest.toordinal()) if latest else len(self.days)
        return lo, hi


class _Index:
    def __init__(self, slots: Sequence[Slot], left_out: str | None = None) -> None:
        self.slots = slots
        self.left_out = left_out
        self.used = [0] * len(slots)
        self.pools: dict[PoolKey, _Pool] = {}
        self.members: list[list[tuple[_Pool, int]]] = [[] for _ in slots]
        self.departments = {s.department for s in slots}
        by_time = sorted(
            range(len(slots)), key=lambda k: (slots[k].local.date(), slots[k].start, k)
        )
        for given in by_time:
            slot = slots[given]
            language = fold_language(slot.language) if slot.language else ANY
            keys: list[PoolKey] = [(ANY, ANY)]
            if slot.department is not None:
                keys.append((slot.department, ANY))
            if language is not ANY:
                keys += [(d, language) for d, _ in list(keys)]
            for key in keys:
                pool = self.pools.setdefault(key, _Pool())
                self.members[given].append((pool, pool.add(slot, given)))
        for pool in self.pools.values():
            pool.freeze()
        for given, slot in enumerate(slots):
            if slot.capacity < 1:  # never offered (the Slots sheet refuses these anyway)
                for member, position in self.members[given]:
                    member.close(position)

    def _pool(self, claimant: Claimant) -> _Pool | None:
        language = fold_language(claimant.language) if claimant.language else ANY
        return self.pools.get((claimant.department, language))

    def take(self, claimant: Claimant) -> Slot | None:
        """The earliest matching slot with room, now counted as used; None if there is none."""
        pool = self._pool(claimant)
        if pool is None:
            return None
        lo, hi = pool.window(claimant.earliest, claimant.latest)
        found = pool.first_with_room(lo)
        if found >= hi:
            return None
        given = pool.positions[found]
        slot = self.slots[given]
        self.used[given] += 1
        if self.used[given] >= slot.capacity:
            for member, position in self.members[given]:
                member.close(position)
        return slot

    def why_not(self, claimant: Claimant, names: Mapping[int, str]) -> tuple[Reason, str]:
        department = claimant.department
        if not self.slots:
            left_out = self.left_out or _("the Slots sheet has none")
            words = _(
                "No slot can be used: {left_out}. Give slots that can be booked (in the "
                "future, without errors) and run again."
            )
            return Reason.NO_USABLE_SLOT, words.format(left_out=left_out)
        label = _department_words(department, names)
        if department is not None and department not in self.departments:
            if self.left_out:  # some may have been for this department
                words = _("There is no usable slot for {department}: {left_out}.")
            else:
                words = _("There is no slot for {department} on the Slots sheet.")
            return Reason.NO_DEPARTMENT_SLOT, words.format(department=label, left_out=self.left_out)
        of = " " + _("for {department}").format(department=label) if department else ""
        language = claimant.language
        pool = self._pool(claimant)
        if pool is None:  # there are slots, and of this department: none has the language
            words = _("No slot{of} offers an interpreter for {language}.")
            return Reason.NO_LANGUAGE_SLOT, words.format(of=of, language=language)
        kind = of
        if language:
            kind += " " + _("with an interpreter for {language}").format(language=language)
        lo, hi = pool.window(claimant.earliest, claimant.latest)
        window = _window_words(claimant.earliest, claimant.latest)
        if lo >= hi:
            words = _("No slot{kind} falls{window}.{nearest}")
            any_day = " " + _("on any day")
            nearest = _nearest_words(pool, lo)
            return Reason.NO_SLOT_IN_WINDOW, words.format(
                kind=kind, window=window or any_day, nearest=nearest
            )
        count = hi - lo
        if count == 1:
            words = _(
                "The only slot{kind}{window} was already full when this claimant's turn came."
            )
        else:
            words = _(
                "All {count} slots{kind}{window} were already full when this claimant's turn came."
            )
        return Reason.ALL_FULL, words.format(count=count, kind=kind, window=window)


def _department_words(department: int | None, names: Mapping[int, str]) -> str:
    """A department as its configured name, else "department 3"."""
    if department is None:
        return ""
    return names.get(department) or _("department {id}").format(id=department)


def _window_words(earliest: date | None, latest: date | None) -> str:
    """ " between 01/12/2026 and 05/12/2026", " on 01/12/2026", ..., or "" for any day."""
    first, last = (f"{day:%d/%m/%Y}" if day else "" for day in (earliest, latest))
    if earliest and latest and earliest == latest:
        words = _("on {date}")
    elif earliest and latest:
        words = _("between {first} and {last}")
    elif earliest:
        words = _("on or after {first}")
    elif latest:
        words = _("on or before {last}")
    else:
        return ""
    return " " + words.format(date=first, first=first, last=last)


def _nearest_words(pool: _Pool, lo: int) -> str:
    """Where the nearest such slots are, so ops can widen the window or add a slot."""
    parts = []
    if lo > 0:
        before = f"{pool.slots[lo - 1].local:%d/%m/%Y %H:%M}"
        parts.append(_("{when} (before)").format(when=before))
    if lo < len(pool.slots):
        after = f"{pool.slots[lo].local:%d/%m/%Y %H:%M}"
        parts.append(_("{when} (after)").format(when=after))
    if not parts:
        return ""
    if len(parts) == 1:
        return " " + _("The nearest are on {when}.").format(when=parts[0])
    nearest = _("The nearest are on {before} and {after}.")
    return " " + nearest.format(before=parts[0], after=parts[1])
