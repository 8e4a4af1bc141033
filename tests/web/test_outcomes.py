"""Every outcome a row can have is counted and shown in words on the page: none is left out
of a count, and which are fine comes from the Outcome enum, not from a list of the page's."""

from __future__ import annotations

from batch_scheduler import i18n
from batch_scheduler.models import Outcome
from batch_scheduler.web import pipeline_bridge as bridge
from batch_scheduler.web.labels import outcome_label


def test_every_outcome_has_its_words_the_workbooks_words() -> None:
    assert [outcome_label(o.value) for o in Outcome] == [o.value.replace("_", " ") for o in Outcome]
    with i18n.use_language("cy"):
        welsh = [outcome_label(o.value) for o in Outcome]
        assert welsh == [bridge.outcome_word(o.value) for o in Outcome]
    assert len(set(welsh)) == len(welsh) and "wedi'i drefnu eisoes" in welsh
    assert outcome_label("made_up") == "made up"  # an older job's: shown as it is


def test_outcomes_are_shown_fine_ones_first_and_none_is_left_out() -> None:
    counts = {"invalid": 10, "conflict": 1, "made_up": 3, "created": 29, "nothing_to_cancel": 2}

    assert bridge.in_order(counts) == [
        ("created", 29),
        ("nothing_to_cancel", 2),  # fine: there was nothing to do
        ("conflict", 1),
        ("invalid", 10),
        ("made_up", 3),  # an outcome this version does not know (an older job): still shown
    ]
