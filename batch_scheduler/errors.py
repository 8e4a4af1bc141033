"""The few exceptions that stop a run. Problems found in rows are not exceptions: they are
`models.Issue` data with stable codes.

    BatchSchedulerError            base; carries an exit code and a message for people
    ├── InputError                 exit 2: the input cannot be used; nothing was sent
    │   └── StrictModeError        exit 2: --strict and some rows are invalid
    ├── OutputError                exit 2: an output path cannot be written; nothing was sent
    │                              (exit 1 when, after sending, the fallback failed too)
    ├── ConfigError                exit 3: missing or contradictory settings
    │   └── LedgerError            exit 3: the ledger file cannot be used (newer, or not one)
    ├── AuthError                  exit 3: bad credentials, 401 after renewal, 403
    ├── StateLockedError           exit 3: another run holds the state directory
    ├── ApiUnreachable             exit 4: the API could not be reached; nothing was sent
    └── InterruptedRun             exit 130: Ctrl-C / SIGTERM; partial results were written

Messages never contain secrets or personal data: they name files, columns and codes.
"""


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
    """The ledger file cannot be used (written by a newer version, or not a database)."""


class AuthError(BatchSchedulerError):
    """The API refused our credentials or privileges."""

    exit_code = 3
    code = "auth"


class StateLockedError(BatchSchedulerError):
    """Another run is using the same state directory."""

    exit_code = 3
    code = "state-locked"


class ApiUnreachable(BatchSchedulerError):
    """The API could not be reached at all at the start of a run (refused, DNS, TLS, timeout).

    Nothing was sent, so a scheduler can simply try again later (exit code 4). A server lost
    in the middle of a run is not an exception: the run stops, writes partial results and
    reports exit code 4 the same way (pipeline.RunReport).
    """

    exit_code = 4
    code = "api-unreachable"


class InterruptedRun(BatchSchedulerError):
    """The run was interrupted; the ledger is consistent and partial results are written."""

    exit_code = 130
    code = "interrupted"
