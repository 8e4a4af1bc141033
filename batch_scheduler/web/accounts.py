"""Local accounts: argon2 password hashes (pwdlib), and lock-out after repeated failures.

Managed from the command line (`batch-scheduler users add|remove|list|set-password`); the
page only checks them. Failures are counted per user name whether or not the account exists,
so neither the message nor the lock-out tells a guesser which names are real.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pwdlib import PasswordHash

from batch_scheduler.i18n import _
from batch_scheduler.web.db import WebDb

MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_hasher = PasswordHash.recommended()  # argon2id
# checked when the name is unknown, so a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    """A user name or password that cannot be used; the message says why."""


class SignIn(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # wrong name or password (never says which)
    LOCKED = "locked"


@dataclass(frozen=True)
class SignInResult:
    status: SignIn
    user_name: str | None = None
    locked_until: datetime | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def fold(name: str) -> str:
    return name.strip().casefold()


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise AccountError(
            _(
                "A user name is 1 to 64 letters, digits, dots, dashes, underscores or @ "
                "(an email address works)."
            )
        )
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _(
                "The password is too short: use at least {length} characters (a few "
                "unrelated words are easy to remember and hard to guess)."
            ).format(length=MIN_PASSWORD_LENGTH)
        )


class Accounts:
    """Users and sign-in checks, in the web page's database."""

    def __init__(
        self,
        db: WebDb,
        *,
        max_failures: int = 5,
        lockout: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._db = db
        self._max_failures = max_failures
        self._lockout = lockout
        self._clock = clock

    def add(self, name: str, password: str) -> str:
        name = check_name(name)
        check_password(password)
        if self.exists(name):
            raise AccountError(_("There is already a user called {name}.").format(name=name))
        with self._db.connect() as conn:
            conn.execute(
                "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                (fold(name), _hasher.hash(password), self._clock().isoformat()),
            )
        return fold(name)

    def exists(self, name: str) -> bool:
        with self._db.connect() as conn:
            row = conn.execute("SELECT 1 FROM users WHERE name = ?", (fold(name),)).fetchone()
        return row is not None

    def names(self) -> list[tuple[str, str]]:
        """(name, created_at) of every user, by name."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT name, created_at FROM users ORDER BY name").fetchall()
        return [(row["name"], row["created_at"]) for row in rows]

    def remove(self, name: str) -> None:
        """Delete the account and sign it out everywhere."""
        with self._db.connect() as conn:
            if conn.execute("DELETE FROM users WHERE name = ?", (fold(name),)).rowcount == 0:
                raise AccountError(_("There is no user called {name}.").format(name=name))
            conn.execute("DELETE FROM sessions WHERE user_name = ?", (fold(name),))

    def set_password(self, name: str, password: str) -> None:
        """A new password; signs the user out everywhere and lifts a lock-out."""
        check_password(password)
        with self._db.connect() as conn:
            changed = conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?",
                (_hasher.hash(password), fold(name)),
            ).rowcount
            if changed == 0:
                raise AccountError(_("There is no user called {name}.").format(name=name))
            conn.execute("DELETE FROM sessions WHERE user_name = ?", (fold(name),))
            conn.execute("DELETE FROM sign_in_failures WHERE name = ?", (fold(name),))

    def set_language(self, name: str, language: str | None) -> None:
        """Remember the page's language for `name` (None: back to the default)."""
        with self._db.connect() as conn:
            conn.execute("UPDATE users SET language = ? WHERE name = ?", (language, fold(name)))

    def sign_in(self, name: str, password: str) -> SignInResult:
        """Check a name and password, counting failures and locking after too many."""
        key, now = fold(name), self._clock()
        with self._db.connect() as conn:
            failure = conn.execute(
                "SELECT failures, locked_until FROM sign_in_failures WHERE name = ?", (key,)
            ).fetchone()
            locked = failure["locked_until"] if failure else None
            if locked and datetime.fromisoformat(locked) > now:
                return SignInResult(SignIn.LOCKED, locked_until=datetime.fromisoformat(locked))
            row = conn.execute("SELECT password_hash FROM users WHERE name = ?", (key,)).fetchone()
            good = _hasher.verify(password, row["password_hash"] if row else _DUMMY_HASH)
            if good and row is not None:
                conn.execute("DELETE FROM sign_in_failures WHERE name = ?", (key,))
                return SignInResult(SignIn.OK, user_name=key)
            return self._failed(conn, key, now, failure)

    def _failed(
        self, conn: sqlite3.Connection, key: str, now: datetime, failure: sqlite3.Row | None
    ) -> SignInResult:
        count = (failure["failures"] if failure else 0) + 1
        until = now + self._lockout if count >= self._max_failures else None
        conn.execute(
            "INSERT INTO sign_in_failures (name, failures, locked_until) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET failures = excluded.failures, "
            "locked_until = excluded.locked_until",
            (key, 0 if until else count, until.isoformat() if until else None),
        )
        if until is not None:
            return SignInResult(SignIn.LOCKED, locked_until=until)
        return SignInResult(SignIn.WRONG)
