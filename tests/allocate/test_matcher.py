"""The allocator: who gets which slot, who does not and why, the same every time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_scheduler.allocate import Strategy
from batch_scheduler.allocate.matcher import Claimant, Plan, Reason, Slot, plan

MONDAY = date(2026, 11, 30)


def slot(
    sid: int,
    day: int = 0,
    hour: int = 10,
    *,
    department: int | None = None,
    language: str | None = None,
    capacity: int = 1,
) -> Slot:
    local = datetime(MONDAY.year, MONDAY.month, MONDAY.day, hour) + timedelta(days=day)
    return Slot(sid, sid + 2, local.replace(tzinfo=UTC), local, 30, department, language, capacity)


def claimant(
    cid: int,
    *,
    department: int | None = None,
    language: str | None = None,
    earliest: int | None = None,
    latest: int | None = None,
) -> Claimant:
    first = MONDAY + timedelta(days=earliest) if earliest is not None else None
    last = MONDAY + timedelta(days=latest) if latest is not None else None
    return Claimant(cid, cid + 2, department, language, first, last)


def placed(result: Plan) -> dict[int, int]:
    return {p.claimant.id: p.slot.id for p in result.placements}


def reasons(result: Plan) -> dict[int, Reason]:
    return {u.claimant.id: u.reason for u in result.unplaced}


def test_each_claimant_gets_the_earliest_slot_in_sheet_order() -> None:
    slots = [slot(0, day=1), slot(1, day=0, hour=14), slot(2, day=0, hour=9)]
    result = plan([claimant(0), claimant(1), claimant(2)], slots)
    assert placed(result) == {0: 2, 1: 1, 2: 0}
    assert [p.turn for p in result.placements] == [0, 1, 2]


def test_a_slot_takes_no_more_than_its_capacity() -> None:
    slots = [slot(0, capacity=2), slot(1, day=1)]
    result = plan([claimant(i) for i in range(4)], slots)
    assert placed(result) == {0: 0, 1: 0, 2: 1}
    assert result.used == (2, 1)
    assert reasons(result) == {3: Reason.ALL_FULL}
    assert "All 2 slots were already full" in result.unplaced[0].words


def test_an_interpreter_need_is_met_only_by_a_slot_with_that_language() -> None:
    slots = [slot(0), slot(1, day=1, language="Polish"), slot(2, day=2, language=" welsh ")]
    result = plan([claimant(0, language="Welsh"), claimant(1, language="Arabic")], slots)
    assert placed(result) == {0: 2}  # case and spaces do not matter
    assert reasons(result) == {1: Reason.NO_LANGUAGE_SLOT}
    assert result.unplaced[0].words == "No slot offers an interpreter for Arabic."


def test_claimants_without_a_need_may_take_an_interpreter_slot() -> None:
    result = plan([claimant(0)], [slot(0, language="Welsh"), slot(1, day=1)])
    assert placed(result) == {0: 0}


def test_department_must_match_when_given() -> None:
    slots = [slot(0, department=2), slot(1, day=1, department=1), slot(2, day=2)]
    claimants = [claimant(0, department=1), claimant(1, department=3), claimant(2)]
    result = plan(claimants, slots, department_names={3: "Appeals"})
    assert placed(result) == {0: 1, 2: 0}
    assert reasons(result) == {1: Reason.NO_DEPARTMENT_SLOT}
    assert result.unplaced[0].words == "There is no slot for Appeals on the Slots sheet."


def test_a_slot_without_department_is_only_for_claimants_without_one() -> None:
    result = plan([claimant(0, department=1), claimant(1)], [slot(0)])
    assert placed(result) == {1: 0}
    assert reasons(result) == {0: Reason.NO_DEPARTMENT_SLOT}


def test_the_date_window_is_inclusive_and_explained() -> None:
    slots = [slot(0, day=0), slot(1, day=2, hour=16), slot(2, day=4)]
    claimants = [
        claimant(0, earliest=1, latest=2),
        claimant(1, earliest=2),
        claimant(2, latest=0),
        claimant(3, earliest=3, latest=3),
    ]
    result = plan(claimants, slots)
    assert placed(result) == {0: 1, 1: 2, 2: 0}
    assert reasons(result) == {3: Reason.NO_SLOT_IN_WINDOW}
    assert result.unplaced[0].words == (
        "No slot falls on 03/12/2026. The nearest are on 02/12/2026 16:00 (before) and "
        "04/12/2026 10:00 (after)."
    )


def test_all_full_names_the_window_and_the_kind_of_slot() -> None:
    slots = [slot(0, department=1, language="Welsh")]
    claimants = [claimant(i, department=1, language="Welsh", earliest=0) for i in range(2)]
    result = plan(claimants, slots, department_names={1: "Benefits"})
    assert result.unplaced[0].words == (
        "The only slot for Benefits with an interpreter for Welsh on or after 30/11/2026 was "
        "already full when this claimant's turn came."
    )


def test_no_slots_at_all() -> None:
    result = plan([claimant(0)], [])
    assert reasons(result) == {0: Reason.NO_USABLE_SLOT}


def test_slots_left_out_are_named_instead_of_blaming_the_department() -> None:
    left_out = "all 3 slot rows on the Slots sheet are in the past"
    alone = plan([claimant(0, department=1)], [], left_out=left_out)
    others = plan([claimant(0, department=1)], [slot(0, department=2)], left_out=left_out)
    assert reasons(alone) == {0: Reason.NO_USABLE_SLOT}
    assert alone.unplaced[0].words.startswith(f"No slot can be used: {left_out}.")
    assert others.unplaced[0].words == f"There is no usable slot for department 1: {left_out}."


def test_interpreter_first_serves_scarce_needs_first_and_keeps_sheet_order() -> None:
    slots = [slot(0, language="Welsh"), slot(1, day=1), slot(2, day=2)]
    claimants = [claimant(0), claimant(1, language="Welsh"), claimant(2), claimant(3)]

    first_fit = plan(claimants, slots)
    assert placed(first_fit) == {0: 0, 2: 1, 3: 2}
    assert reasons(first_fit) == {1: Reason.ALL_FULL}

    scarce = plan(claimants, slots, Strategy.INTERPRETER_FIRST)
    assert placed(scarce) == {1: 0, 0: 1, 2: 2}
    assert [p.claimant.id for p in scarce.placements] == [1, 0, 2]  # the serving order
    assert reasons(scarce) == {3: Reason.ALL_FULL}


def test_the_same_input_gives_the_same_plan() -> None:
    slots = [slot(i, day=i % 3, hour=10 + i % 2, capacity=1 + i % 2) for i in range(12)]
    claimants = [claimant(i, earliest=i % 2) for i in range(20)]
    assert plan(claimants, slots) == plan(list(claimants), list(slots))


def test_slots_at_the_same_time_go_in_the_order_given() -> None:
    result = plan([claimant(0), claimant(1)], [slot(5), slot(3)])
    assert placed(result) == {0: 5, 1: 3}


# ---------------------------------------------------------------- any plan, checked independently

DEPARTMENTS = st.sampled_from([None, 1, 2])
slots_strategy = st.lists(
    st.builds(
        lambda day, hour, d, lang, cap: (day, hour, d, lang, cap),
        st.integers(0, 6),
        st.integers(8, 17),
        DEPARTMENTS,
        st.sampled_from([None, "Welsh", "polish"]),
        st.integers(1, 3),
    ),
    max_size=25,
)
claimants_strategy = st.lists(
    st.builds(
        lambda d, lang, lo, span: (d, lang, lo, span),
        st.sampled_from([None, 1, 2, 3]),
        st.sampled_from([None, None, "welsh", "Polish", "Arabic"]),
        st.one_of(st.none(), st.integers(-1, 7)),
        st.one_of(st.none(), st.integers(0, 4)),
    ),
    max_size=40,
)


def _fits(c: Claimant, s: Slot) -> bool:
    """Written out again from the issue's words, not taken from the module under test."""
    day = s.local.date()
    return (
        (c.department is None or c.department == s.department)
        and (c.language is None or (s.language or "").strip().lower() == c.language.lower())
        and (c.earliest is None or day >= c.earliest)
        and (c.latest is None or day <= c.latest)
    )


@settings(max_examples=200, deadline=None)
@given(slots_strategy, claimants_strategy, st.sampled_from(list(Strategy)))
def test_any_plan_keeps_every_rule(
    raw_slots: list, raw_claimants: list, strategy: Strategy
) -> None:
    slots = [
        slot(i, day=day, hour=hour, department=d, language=lang, capacity=cap)
        for i, (day, hour, d, lang, cap) in enumerate(raw_slots)
    ]
    claimants = []
    for i, (d, lang, lo, span) in enumerate(raw_claimants):
        hi = None if span is None else (lo or 0) + span
        claimants.append(claimant(i, department=d, language=lang, earliest=lo, latest=hi))

    result = plan(claimants, slots, strategy)

    turns = sorted([*result.placements, *result.unplaced], key=lambda x: x.turn)
    assert sorted(x.claimant.id for x in turns) == [c.id for c in claimants]  # each once
    assert [x.turn for x in turns] == list(range(len(claimants)))
    if strategy is Strategy.FIRST_FIT:
        assert [x.claimant.id for x in turns] == [c.id for c in claimants]
    room = {s.id: s.capacity for s in slots}
    for x in turns:  # replay the turns: at each, what was left?
        open_ = [s for s in slots if room[s.id] > 0 and _fits(x.claimant, s)]
        earliest = min(open_, key=lambda s: (s.local, s.id), default=None)
        if hasattr(x, "slot"):
            assert _fits(x.claimant, x.slot)
            assert x.slot == earliest  # the earliest compatible slot with room
            room[x.slot.id] -= 1
        else:
            assert earliest is None, f"{x.claimant} could have had {earliest}"
            in_window = [s for s in slots if _fits(x.claimant, s)]
            assert (x.reason is Reason.ALL_FULL) == bool(in_window)
    assert all(left >= 0 for left in room.values())  # never beyond capacity
    assert result.used == tuple(s.capacity - room[s.id] for s in slots)
