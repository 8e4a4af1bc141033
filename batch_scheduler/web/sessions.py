"""Server-side sessions: the cookie holds a random id; everything else stays in the database.

So a session can end on the server: after `idle` without a request, after `lifetime` in all,
on sign-out, and everywhere at once when the password changes or the account is removed.
Each session has its own CSRF token, put in every form and checked on every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from batch_scheduler.web.db import WebDb

TOUCH_EVERY = timedelta(seconds=30)  # last_seen is rewritten at most this often


@dataclass(frozen=True)
class Session:
    user_name: str
    csrf_token: str
    id_hash: str
    language: str | None = None  # the user's chosen language for the page, if any


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def tokens_match(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Sessions:
    def __init__(
        self,
        db: WebDb,
        *,
        idle: timedelta = timedelta(minutes=30),
        lifetime: timedelta = timedelta(hours=12),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._db, self.idle, self.lifetime, self._clock = db, idle, lifetime, clock

    def start(self, user_name: str) -> str:
        """A new session for `user_name`; returns the cookie value (never stored as is)."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock().isoformat()
        with self._db.connect() as conn:
            conn.execute(
                "INSERT INTO sessions (id_hash, user_name, csrf_token, created_at, last_seen) "
                "VALUES (?, ?, ?, ?, ?)",
                (_hash(session_id), user_name, secrets.token_urlsafe(32), now, now),
            )
        return session_id

    def find(self, session_id: str | None) -> Session | None:
        """The live session for this cookie value, touched; None if unknown or expired."""
        if not session_id:
            return None
        id_hash, now = _hash(session_id), self._clock()
        with self._db.connect() as conn:
            row = conn.execute(
                "SELECT s.user_name, s.csrf_token, s.created_at, s.last_seen, u.language "
                "FROM sessions s "
                "JOIN users u ON u.name = s.user_name WHERE s.id_hash = ?",
                (id_hash,),
            ).fetchone()
            if row is None:
                return None
            last_seen = datetime.fromisoformat(row["last_seen"])
            created = datetime.fromisoformat(row["created_at"])
            if now - last_seen > self.idle or now - created > self.lifetime:
                conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))
                return None
            if now - last_seen > TOUCH_EVERY:
                conn.execute(
                    "UPDATE sessions SET last_seen = ? WHERE id_hash = ?",
                    (now.isoformat(), id_hash),
                )
        return Session(row["user_name"], row["csrf_token"], id_hash, row["language"])

    def end(self, session: Session) -> None:
        with self._db.connect() as conn:
            conn.execute("DELETE FROM sessions WHERE id_hash = ?", (session.id_hash,))

    def end_all(self, user_name: str) -> int:
        """Sign `user_name` out everywhere; how many sessions ended."""
        with self._db.connect() as conn:
            return conn.execute("DELETE FROM sessions WHERE user_name = ?", (user_name,)).rowcount

    def purge_expired(self) -> None:
        cutoff = (self._clock() - self.idle).isoformat()
        with self._db.connect() as conn:
            conn.execute("DELETE FROM sessions WHERE last_seen < ?", (cutoff,))
