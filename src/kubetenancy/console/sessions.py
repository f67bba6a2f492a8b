"""Console sessions: kept in the server's memory, named in the browser by a random id only.

The cookie holds 256 random bits and nothing else; the user's tokens stay here, so the browser (and its
JavaScript: the cookie is HttpOnly) never sees them. A session ends on logout, after `idle_seconds`
without a request, after `max_seconds` in all, or when its ID token can no longer be refreshed.
Each session has its own CSRF token, compared in constant time. No I/O here.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kubetenancy.console.oidc import LoginStart, Tokens

SESSION_COOKIE = "__Host-kubetenancy-session"
LOGIN_COOKIE = "__Host-kubetenancy-login"
"""Ties the provider's redirect back to the browser that started the login (state, nonce, PKCE)."""
LOGIN_SECONDS = 600.0


@dataclass
class Session:
    """One logged-in user. `token` is what the API server gets; `tokens` is set for OIDC logins."""

    id: str
    user: str
    groups: tuple[str, ...]
    token: str
    tokens: Tokens | None
    csrf: str
    created: float
    seen: float
    method: str
    """"oidc" or "token"."""


@dataclass
class SessionStore:
    """Sessions and pending logins by id, with idle and absolute expiry."""

    idle_seconds: float = 1800.0
    max_seconds: float = 8 * 3600.0
    clock: Callable[[], float] = time.time
    _sessions: dict[str, Session] = field(default_factory=dict)
    _logins: dict[str, tuple[LoginStart, float, str]] = field(default_factory=dict)

    def create(self, user: str, groups: tuple[str, ...], token: str, tokens: Tokens | None) -> Session:
        now = self.clock()
        session = Session(
            id=secrets.token_urlsafe(32),
            user=user,
            groups=groups,
            token=token,
            tokens=tokens,
            csrf=secrets.token_urlsafe(32),
            created=now,
            seen=now,
            method="oidc" if tokens is not None else "token",
        )
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of this id (and mark it used), or None: unknown, forged, expired or ended."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self.clock()
        if now - session.seen > self.idle_seconds or now - session.created > self.max_seconds:
            del self._sessions[session_id]
            return None
        session.seen = now
        return session

    def alive(self, session_id: str) -> bool:
        """Whether the session still exists, without counting this as its use (for long-lived streams)."""
        return session_id in self._sessions

    def end(self, session_id: str) -> Session | None:
        return self._sessions.pop(session_id, None)

    def refreshed(self, session: Session, tokens: Tokens) -> None:
        session.tokens = tokens
        session.token = tokens.id_token

    def remember_login(self, start: LoginStart, next_path: str) -> str:
        """Keep a pending login; returns the id for the login cookie."""
        now = self.clock()
        self._logins = {k: v for k, v in self._logins.items() if now - v[1] < LOGIN_SECONDS}
        login_id = secrets.token_urlsafe(32)
        self._logins[login_id] = (start, now, next_path)
        return login_id

    def take_login(self, login_id: str | None, state: str) -> tuple[LoginStart, str] | None:
        """The pending login this browser started, if `state` is its own (each is used once)."""
        if not login_id or login_id not in self._logins:
            return None
        start, started, next_path = self._logins.pop(login_id)
        if self.clock() - started > LOGIN_SECONDS or not secrets.compare_digest(start.state, state):
            return None
        return start, next_path

    def __len__(self) -> int:
        return len(self._sessions)


def csrf_ok(session: Session, offered: str | None) -> bool:
    return offered is not None and secrets.compare_digest(session.csrf.encode(), offered.encode())
