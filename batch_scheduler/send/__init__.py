"""Send: API-ready requests -> one RowResult per row, each applied exactly once.

Takes the valid rows' requests (by position), an ApiClient, the Ledger and the send settings;
returns a RowResult per position. Triage first asks the ledger what earlier runs did (no
network: a dry run stops there); the sender then sends the rest, paced and retried, marking
every key in the ledger before it goes out and reconciling unknown outcomes with the server.

    triage.py    what the ledger already knows: send, check with the server first, or done
    creates.py   send_creates: book exactly once; unknown outcomes settled by a sweep
    cancels.py   send_cancels: cancel exactly once; by id, or by reference found in a sweep
    existing.py  before the first create: which references does the account already hold?
    engine.py    the fan-out both share: workers, queue, stop/drain, retries, ledger marks
    setup.py     what a send is given (Setup), what it counts (SendStats), answer -> record
    rows.py      a row's progress, the queue of rows ready to go, a stopped row's result
    sweep.py     the one paging loop over the account's list
    pacing.py    the run's clock (Timing), the adaptive token bucket and the retry policy
    matching.py  is an appointment found under a reference this row's booking? (conflicts)
    watchdog.py  fail fast before sending (credentials, reachability); stop when the API
                 goes silent mid-run
"""

from batch_scheduler.send.cancels import send_cancels
from batch_scheduler.send.creates import send_creates
from batch_scheduler.send.matching import conflict_code
from batch_scheduler.send.pacing import Timing
from batch_scheduler.send.setup import SendStats
from batch_scheduler.send.triage import (
    CancelTriage,
    CreateTriage,
    nothing_to_cancel,
    triage_cancels,
    triage_creates,
)
from batch_scheduler.send.watchdog import Stopped, check_access, watch_contact

__all__ = [
    "CancelTriage",
    "CreateTriage",
    "SendStats",
    "Stopped",
    "Timing",
    "check_access",
    "conflict_code",
    "nothing_to_cancel",
    "send_cancels",
    "send_creates",
    "triage_cancels",
    "triage_creates",
    "watch_contact",
]
