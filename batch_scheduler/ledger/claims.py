"""Per-key claims: which run may send a key now, so several runs can share one ledger.

A run claims a key (its entry's `owner` and `lease_until`) when it marks it SENDING, or
before it checks with the server what became of a key left SENDING or UNKNOWN; the claim
lasts until the key is final (DONE, REJECTED: released with that record) or the run ends
(released then). While a run lives it renews its leases (`renew`); a run that died (kill -9,
a machine lost) leaves its claims until their lease runs out, and then another run may take
them over, check with the server (a sweep, never a blind resend) and finish them.

A key another run holds (a live lease) is never marked or reconciled here: the caller waits
and asks again, or says which run holds it. On one machine a dead run's claims need not wait
for their lease: `Owner.is_dead` tells a run of this machine whose process is gone (the
SQLite ledger, a file on one machine, uses it so a re-run right after a kill -9 goes on at
once, as it did when one run held the whole state directory).

An owner is "machine/pid/run": machine is the host name and the process's PID namespace, so
two containers on one host with the same host name are never taken for one machine.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

from batch_scheduler.ledger.entries import LedgerEntry

DEFAULT_LEASE = 60.0  # seconds a claim lasts without renewal (send.claim_lease)


def machine() -> str:
    """This machine, as owners name it: host name and PID namespace."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    host = socket.gethostname().replace("/", "_") or "localhost"
    return f"{host}:{namespace}"


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: a run of a process on a machine."""

    machine: str
    pid: int
    run_id: str

    @classmethod
    def of_run(cls, run_id: str) -> Owner:
        """The owner for a run of this process."""
        return cls(machine(), os.getpid(), run_id)

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        parts = text.split("/", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2])

    def __str__(self) -> str:
        return f"{self.machine}/{self.pid}/{self.run_id}"

    @property
    def host(self) -> str:
        return self.machine.split(":", 1)[0]

    def is_dead(self) -> bool:
        """True only when this owner is a process of this machine that no longer runs."""
        if self.machine != machine() or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # it runs, as another user
            return False
        return False

    def in_words(self) -> str:
        """For people: which run, without the run id's noise."""
        return f"process {self.pid} on {self.host}"


@dataclass(frozen=True)
class Refusal:
    """Why a key could not be claimed or marked: another run holds it, or its entry has
    moved on (another run finished it, or left it to be checked)."""

    key: str
    holder: str | None  # another run's live claim, as stored ("machine/pid/run")
    entry: LedgerEntry | None  # the key's entry as it is now

    @property
    def held(self) -> bool:
        return self.holder is not None

    def holder_in_words(self) -> str:
        owner = Owner.parse(self.holder or "")
        return owner.in_words() if owner else "another run"


def live_holder(owner: str | None, lease_until: datetime | None, me: str, now: datetime) -> bool:
    """True when `owner` is another run whose lease has not run out."""
    return bool(owner) and owner != me and lease_until is not None and lease_until >= now
