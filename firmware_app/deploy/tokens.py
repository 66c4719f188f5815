"""One-time enrolment tokens, kept on the post's CA laptop in a small SQLite file.

Only a token's SHA-256 is stored, bound to the device id it was issued for. Using a token and
marking it used is one transaction (BEGIN IMMEDIATE), so two signings cannot both spend it.
"""
from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from firmware_app.storage import Migration, Schema, migrate

from .errors import EnrolmentRefused, RefusalReason

TOKEN_BYTES = 15            # 120 bits; 24 base32 characters, typed in groups of 4
MAX_TOKEN_CHARS = 128
_SCHEMA = ("CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, device_id TEXT NOT NULL, "
           "issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, serial TEXT)")
SCHEMA = Schema("enrolment tokens", (Migration.sql(1, "baseline", _SCHEMA),))


def normalise(token: str) -> str:
    """What the technician typed, without the grouping dashes, spaces or case."""
    return "".join(ch for ch in token[:MAX_TOKEN_CHARS].upper() if ch.isalnum())


def token_hash(token: str) -> str:
    return hashlib.sha256(normalise(token).encode("ascii", errors="replace")).hexdigest()


def new_token(random_bytes: Callable[[int], bytes]) -> str:
    text = base64.b32encode(random_bytes(TOKEN_BYTES)).decode("ascii")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


class TokenStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            migrate(db, SCHEMA, path)
        path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def issue(self, device_id: str, now: datetime, valid_for: timedelta,
              random_bytes: Callable[[int], bytes]) -> str:
        token = new_token(random_bytes)
        with closing(self._connect()) as db:
            db.execute("INSERT INTO tokens (hash, device_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                       (token_hash(token), device_id, now.isoformat(), (now + valid_for).isoformat()))
        return token

    def spend(self, token: str, device_id: str, now: datetime, serial: str) -> None:
        """Check the token for this device and mark it used, or raise EnrolmentRefused."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                _check(db.execute("SELECT device_id, expires_at, used_at FROM tokens WHERE hash = ?",
                                  (token_hash(token),)).fetchone(), device_id, now)
                db.execute("UPDATE tokens SET used_at = ?, serial = ? WHERE hash = ?",
                           (now.isoformat(), serial, token_hash(token)))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def listing(self) -> list[dict]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT device_id, issued_at, expires_at, used_at, serial FROM tokens "
                              "ORDER BY issued_at").fetchall()
        keys = ("device_id", "issued_at", "expires_at", "used_at", "serial")
        return [dict(zip(keys, row)) for row in rows]


def _check(row, device_id: str, now: datetime) -> None:
    if row is None:
        raise EnrolmentRefused(RefusalReason.TOKEN_UNKNOWN, "this token was never issued by this CA laptop")
    issued_for, expires_at, used_at = row
    if used_at is not None:
        raise EnrolmentRefused(RefusalReason.TOKEN_USED, f"this token was already used on {used_at}")
    if issued_for != device_id:
        raise EnrolmentRefused(RefusalReason.TOKEN_OTHER_DEVICE,
                               f"this token was issued for {issued_for!r}, the CSR names {device_id!r}")
    if datetime.fromisoformat(expires_at) <= now:
        raise EnrolmentRefused(RefusalReason.TOKEN_EXPIRED, f"this token expired on {expires_at}")
