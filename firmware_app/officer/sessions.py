"""Officer console sessions: in memory (a restart logs everybody out), bounded, with a fixed
lifetime from login (no sliding renewal: a forgotten console does not stay logged in).

Each session has its own CSRF token, sent back in every form and compared in constant time. The
session id travels only in a `__Host-` cookie (HttpOnly, Secure, SameSite=Strict, Path=/).
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "__Host-officer_session"
MAX_SESSIONS = 64


@dataclass
class Session:
    sid: str = field(repr=False)
    officer: str
    csrf: str = field(repr=False)
    expires: float
    notice: str = ""            # the result of the officer's last action, shown once

    def csrf_ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf.encode())


class Sessions:
    def __init__(self, lifetime_s: float, *, monotonic: Callable[[], float] = time.monotonic,
                 token: Callable[[], str] = lambda: secrets.token_urlsafe(32), max_sessions: int = MAX_SESSIONS):
        self.lifetime_s, self._monotonic, self._token, self.max_sessions = lifetime_s, monotonic, token, max_sessions
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def open(self, officer: str) -> Session:
        session = Session(self._token(), officer, self._token(), self._monotonic() + self.lifetime_s)
        with self._lock:
            self._prune()
            if len(self._sessions) >= self.max_sessions:    # the oldest login gives way
                oldest = min(self._sessions.values(), key=lambda s: s.expires)
                del self._sessions[oldest.sid]
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None and self._monotonic() >= session.expires:
                del self._sessions[sid]
                return None
            return session

    def close(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def __len__(self) -> int:
        with self._lock:
            self._prune()
            return len(self._sessions)

    def _prune(self) -> None:
        now = self._monotonic()
        for sid in [sid for sid, s in self._sessions.items() if now >= s.expires]:
            del self._sessions[sid]

    def cookie(self, session: Session) -> str:
        return f"{COOKIE}={session.sid}; Path=/; Max-Age={int(self.lifetime_s)}; HttpOnly; Secure; SameSite=Strict"


def expired_cookie() -> str:
    return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"


def session_id(cookie_header: str | None) -> str | None:
    """The session id from a Cookie header (the first one with our name), bounded."""
    for part in (cookie_header or "")[:4096].split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and 0 < len(value) <= 128:
            return value
    return None
