"""Every exception of the package, in one place: first the few that stop a run, then the
few the library raises and catches itself. Problems found in rows are not exceptions: they
are `models.Issue` data with stable codes.

What stops a run (the CLI turns each into its exit code and its message):

    BatchSchedulerError            base; carries an exit code and a message for people
    ├── InputError                 exit 2: the input cannot be used; nothing was sent
    │   └── StrictModeError        exit 2: --strict and some rows are invalid
    ├── OutputError                exit 2: an output path cannot be written; nothing was sent
    │                              (exit 1 when, after sending, the fallback failed too)
    ├── ConfigError                exit 3: missing or contradictory settings
    │   └── LedgerError            exit 3: the ledger cannot be used (a file newer or not one;
    │                              a state_url wrong or unreachable); nothing was sent
    ├── AuthError                  exit 3: bad credentials, 401 after renewal, 403
    ├── ApiUnreachable             exit 4: the API could not be reached; nothing was sent
    └── LedgerUnavailable          exit 4: the ledger's database stopped answering mid-run
                                   (the send stops on it: partial results, exit 4)

(Ctrl-C / SIGTERM is not an exception: the run drains, writes partial results and the CLI
exits 130.)

What never reaches the user (raised and caught inside the library):

    WireError                      api/wire.py: no HTTP answer came back, in plain words
    ├── NotSent                    nothing left: refused, unreachable, connect/pool timeout
    └── AnswerLost                 it may have arrived: dropped, reset, read timeout
    TokenUnavailable               api/auth.py: no bearer token could be had; the client
                                   turns it into an ApiResult (FATAL or RETRY_LATER)
    ResourceError (ValueError)     api/resource.py: an answer's body is not the resource
                                   expected; classify makes it UNKNOWN or RETRY_LATER
    LedgerConflictError            ledger: a key the ledger says must not be sent now
      (RuntimeError)               (a bug, not data)
    RunStopping                    send/engine.py: the run is stopping, so the request about
                                   to go out is not sent; ends that row's attempt quietly
    NotClaimed                     send/engine.py: the ledger would not let this run send the
                                   key now (another run holds it, or finished it)
    LedgerContention               ledger: two runs' transactions waited on each other and
                                   the database undid one (a deadlock): it is tried again
    ConnectionDropped              sandbox/drop.py: the sandbox drops a connection on purpose
                                   (a fault it injects); uvicorn closes it, unlogged

Messages never contain secrets or personal data: they name files, columns and codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch_scheduler.models import ResultKind

if TYPE_CHECKING:
    from batch_scheduler.ledger.claims import Refusal


class BatchSchedulerError(Exception):
    """Base of every error that stops a run."""

    exit_code = 1
    code = "error"  # stable, for scripts (the JSON outputs carry it)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(BatchSchedulerError):
    """The input file cannot be used (unreadable, missing columns, too large)."""

    exit_code = 2
    code = "input-unusable"


class StrictModeError(InputError):
    """`--strict` was given and some rows are invalid; nothing was sent."""

    code = "strict-invalid-rows"


class OutputError(BatchSchedulerError):
    """An output file cannot be written: checked before sending (exit 2, nothing sent); or,
    after sending, neither where asked nor in the fallback file (exit 1)."""

    exit_code = 2
    code = "output-unusable"

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ConfigError(BatchSchedulerError):
    """Configuration is missing or contradictory (no base URL, bad TOML, ...)."""

    exit_code = 3
    code = "config"


class LedgerError(ConfigError):
    """The ledger cannot be used: its file was written by a newer version or is not a
    database, or the database state_url names cannot be reached or used."""


class AuthError(BatchSchedulerError):
    """The API refused our credentials or privileges."""

    exit_code = 3
    code = "auth"


class ApiUnreachable(BatchSchedulerError):
    """The API could not be reached at all at the start of a run (refused, DNS, TLS, timeout).

    Nothing was sent, so a scheduler can simply try again later (exit code 4). A server lost
    in the middle of a run is not an exception: the run stops, writes partial results and
    reports exit code 4 the same way (pipeline.RunReport).
    """

    exit_code = 4
    code = "api-unreachable"


class LedgerUnavailable(BatchSchedulerError):
    """The ledger's database stopped answering mid-run (PostgreSQL restarted, the network
    lost). Nothing more is sent: a request leaves only once its claim is committed. The send
    stops on it as on a lost API (partial results, exit 4); a re-run checks what was sent
    without an answer."""

    exit_code = 4
    code = "ledger-unavailable"


# ---------------------------------------------------------------- inside the library


class TokenUnavailable(Exception):
    """No token could be had; `kind` is FATAL (credentials refused) or RETRY_LATER."""

    def __init__(
        self,
        kind: ResultKind,
        message: str,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class ResourceError(ValueError):
    """An answer's body is not the resource we expected (the message names no values)."""


class LedgerConflictError(RuntimeError):
    """A caller tried to send a key the ledger says must not be sent now (a bug, not data)."""


class WireError(Exception):
    """No HTTP answer came back; `words` says what happened, plainly (never a URL or header)."""

    def __init__(self, words: str) -> None:
        super().__init__(words)
        self.words = words


class NotSent(WireError):
    """The request provably never left: refused, unreachable, a connect or pool timeout.
    Safe to send again, even a create."""


class AnswerLost(WireError):
    """The request may have reached the server, but no (whole) answer came back: a dropped
    connection, a reset, a timeout after sending. A create is then of unknown outcome."""


class RunStopping(Exception):
    """The send is stopping (Ctrl-C, a lost server, refused credentials): the request about
    to go out is not sent. The engine ends the row's attempt on it; the row is reported as
    interrupted."""


class NotClaimed(Exception):
    """The ledger refused to claim the key for this run (another run holds it, or its entry
    has moved on): the request is not sent, and the engine decides what the row does next
    from `refusal` (a ledger.Refusal)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.key)
        self.refusal = refusal


class LedgerContention(Exception):
    """Two runs' transactions on a shared ledger waited on each other and the database undid
    this one (PostgreSQL's deadlock detection): nothing of it was written; try it again."""


class ConnectionDropped(Exception):
    """The sandbox drops this connection on purpose, after starting its answer: the ASGI
    server closes it, and the client never gets a whole answer (sandbox/drop.py)."""
