"""Sign-in attempt limiting and server-side sessions, kept in the database every server process shares.

Attempt limiting reserves an attempt *before* the password is checked, in one atomic statement
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``: a row lock on PostgreSQL, the write lock on SQLite), so
parallel guesses cannot all read the same old count: at most ``max_attempts`` passwords are checked per
lock window, whatever the concurrency. Names that match no account are counted exactly like real ones.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, delete, literal, select, update

from store.models import ApiToken, SignInFailure, User, UserSession, utcnow


@dataclass(frozen=True)
class Attempt:
    """The outcome of reserving a sign-in attempt: its number in the window, and the lock if any."""

    number: int
    locked_until: float | None

    def locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now


def _insert(session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def reserve_attempt(session, username: str, *, window_s: float, now: float | None = None) -> Attempt:
    """Count one attempt for ``username`` atomically and return its number and any lock in force.

    An expired lock, or a last attempt older than ``window_s``, starts the count again at 1. While a lock
    is in force the count is left as it is.
    """
    now = time.time() if now is None else now
    table = SignInFailure.__table__
    stale = ((table.c.locked_until.isnot(None) & (table.c.locked_until <= now))
             | (table.c.locked_until.is_(None) & (table.c.last_attempt_at <= now - window_s)))
    locked = table.c.locked_until.isnot(None) & (table.c.locked_until > now)
    statement = _insert(session)(table).values(username=username, failures=1, last_attempt_at=now, locked_until=None)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.username],
        set_={
            "failures": case((stale, literal(1)), (locked, table.c.failures), else_=table.c.failures + 1),
            "locked_until": case((stale, literal(None)), else_=table.c.locked_until),
            "last_attempt_at": literal(now),
        },
    ).returning(table.c.failures, table.c.locked_until)
    number, locked_until = session.execute(statement).one()
    return Attempt(int(number), locked_until)


def lock(session, username: str, *, lock_s: float, now: float | None = None) -> float:
    """Lock ``username`` for ``lock_s`` seconds unless a lock is already in force; returns its end."""
    now = time.time() if now is None else now
    table = SignInFailure.__table__
    session.execute(update(table).where(table.c.username == username,
                                        table.c.locked_until.is_(None) | (table.c.locked_until <= now))
                    .values(locked_until=now + lock_s))
    return session.scalar(select(table.c.locked_until).where(table.c.username == username))


def succeed(session, username: str, *, now: float | None = None) -> bool:
    """Clear the count after a right password, unless a parallel attempt locked the account meanwhile."""
    now = time.time() if now is None else now
    table = SignInFailure.__table__
    cleared = session.execute(delete(table).where(table.c.username == username,
                                                  table.c.locked_until.is_(None) | (table.c.locked_until <= now)))
    if cleared.rowcount:
        return True
    return session.scalar(select(table.c.username).where(table.c.username == username)) is None


def locked_until(session, username: str, *, now: float | None = None) -> float | None:
    now = time.time() if now is None else now
    until = session.scalar(select(SignInFailure.locked_until).where(SignInFailure.username == username))
    return until if until is not None and until > now else None


def clear_failures(session, username: str) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.username == username))


def forget_stale_failures(session, *, window_s: float, now: float | None = None) -> None:
    """Drop counts nobody added to within the window and not locked (typed-once names stay bounded)."""
    now = time.time() if now is None else now
    table = SignInFailure.__table__
    session.execute(delete(table).where(table.c.last_attempt_at <= now - window_s,
                                        table.c.locked_until.is_(None) | (table.c.locked_until <= now)))


# ------------------------------------------------------------------------------------------ sessions


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(session, user_id: int, *, lifetime: timedelta) -> str:
    """Record a new session of ``user_id`` and return its key (for the cookie; only the hash is stored)."""
    key = secrets.token_urlsafe(32)
    session.execute(delete(UserSession).where(UserSession.created_at < utcnow() - lifetime))
    session.add(UserSession(key_hash=_key_hash(key), user_id=user_id, created_at=utcnow()))
    return key


def user_of_session(session, user_id: int, key: str, *, lifetime: timedelta) -> User | None:
    """The user whose open session has this key (one indexed lookup per request), or None."""
    return session.scalar(select(User).join(UserSession, UserSession.user_id == User.id)
                          .where(UserSession.key_hash == _key_hash(key), User.id == user_id,
                                 UserSession.created_at >= utcnow() - lifetime))


def close_session(session, key: str) -> None:
    session.execute(delete(UserSession).where(UserSession.key_hash == _key_hash(key)))


def end_every_session_and_token(session, user_id: int) -> int:
    """Sign the user out everywhere: delete their sessions and revoke their API tokens; returns the tokens."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    revoked = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
                              .values(revoked=True))
    return revoked.rowcount or 0
