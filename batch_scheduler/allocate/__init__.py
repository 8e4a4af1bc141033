"""Allocate: claimants + free slots -> an allocation (and, when asked, its booking).

Takes a workbook of claimants and slots (or two files) and a strategy; returns an
AllocationReport, having written the allocation workbook (who goes where, who could not be
placed and why) and, with `book`, booked it through the same pipeline as `book`. The same
input always gives the same allocation.

    command.py  allocate: read both sheets, check them, match, write, and (book) run the booking
    sheets.py   the claimant and slot sheets' checks (sharing validate's rules)
    matcher.py  the matching itself: first-fit or interpreter-first, with reasons
"""

from batch_scheduler.allocate.command import AllocateRequest, AllocationReport, allocate
from batch_scheduler.allocate.matcher import Strategy

__all__ = ["AllocateRequest", "AllocationReport", "Strategy", "allocate"]
