"""Per-officer credentials: salted scrypt hashes in one file, lockout after failed attempts.

File format, one officer per line: `name:scrypt:n:r:p:salt_hex:hash_hex`. The file is written
atomically with mode 0600; passwords never leave this module and are never logged. Failed
attempts are counted in memory per officer (a restart clears them; the console's sessions are in
memory too): `max_failures` wrong passwords lock the name for `lockout_s`, whatever comes next.
The clock and the salt source are injected.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from firmware_app.errors import GateError

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MIN_PASSWORD, MAX_PASSWORD = 12, 256
MAX_FILE_BYTES = 256 * 1024
MAX_TRACKED = 1024


class CredentialError(GateError):
    """A bad name, a weak password or an unreadable credential file."""


class LockedOut(CredentialError):
    def __init__(self, name: str, retry_in_s: float):
        super().__init__(f"officer {name} locked out for {retry_in_s:.0f} s after failed logins")
        self.retry_in_s = retry_in_s


@dataclass(frozen=True)
class _Hash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def line(self, name: str) -> str:
        return f"{name}:scrypt:{self.n}:{self.r}:{self.p}:{self.salt.hex()}:{self.digest.hex()}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def _parse(line: str) -> tuple[str, _Hash]:
    parts = line.strip().split(":")
    if len(parts) != 7 or parts[1] != "scrypt" or not NAME.match(parts[0]):
        raise CredentialError("malformed line in the officer credential file")
    n, r, p = (int(x) for x in parts[2:5])
    if not (2 ** 10 <= n <= 2 ** 20 and 1 <= r <= 32 and 1 <= p <= 4):   # bounded before any work
        raise CredentialError("scrypt parameters out of range in the officer credential file")
    return parts[0], _Hash(n, r, p, bytes.fromhex(parts[5]), bytes.fromhex(parts[6]))


class OfficerStore:
    def __init__(self, path: Path, *, monotonic: Callable[[], float] = time.monotonic,
                 salt: Callable[[int], bytes] = os.urandom, max_failures: int = 5, lockout_s: float = 300.0):
        self.path, self._monotonic, self._salt = Path(path), monotonic, salt
        self.max_failures, self.lockout_s = max_failures, lockout_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    # --- the file ---------------------------------------------------------------------------
    def _read(self) -> dict[str, _Hash]:
        try:
            if self.path.stat().st_size > MAX_FILE_BYTES:
                raise CredentialError(f"{self.path} is larger than {MAX_FILE_BYTES} bytes")
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialError(f"{self.path} unreadable: {type(exc).__name__}") from exc
        try:
            return dict(_parse(line) for line in text.splitlines() if line.strip())
        except ValueError as exc:
            raise CredentialError(f"{self.path}: malformed entry") from exc

    def _write(self, entries: dict[str, _Hash]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        owner = self._owner()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if owner is not None and owner != (os.geteuid(), os.getegid()):
            os.fchown(fd, *owner)       # root adding an officer keeps the file the gate user's (it reads it)
        with os.fdopen(fd, "w") as handle:
            handle.write("".join(h.line(name) + "\n" for name, h in sorted(entries.items())))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def _owner(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return info.st_uid, info.st_gid

    def names(self) -> list[str]:
        return sorted(self._read())

    def add(self, name: str, password: str) -> None:
        """Create or replace an officer's password."""
        if not NAME.match(name):
            raise CredentialError("officer names: 1-32 of a-z 0-9 . _ - (starting with a letter or digit)")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise CredentialError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        salt = self._salt(16)
        entries = self._read()
        entries[name] = _Hash(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
        self._write(entries)

    # --- login ------------------------------------------------------------------------------
    def verify(self, name: str, password: str) -> bool:
        """True for the right password; raises LockedOut while the name is locked."""
        self._refuse_if_locked(name)
        entry = self._read().get(name) if NAME.match(name) else None
        password = password[:MAX_PASSWORD]
        if entry is None:       # same work as a real check: no timing hint that the name exists
            _scrypt(password, b"\0" * 16, SCRYPT_N, SCRYPT_R, SCRYPT_P)
            return self._failed(name)
        if hmac.compare_digest(_scrypt(password, entry.salt, entry.n, entry.r, entry.p), entry.digest):
            with self._lock:
                self._failures.pop(name, None)
            return True
        return self._failed(name)

    def _failed(self, name: str) -> bool:
        now = self._monotonic()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:      # guessed names must not grow memory forever
                self._failures = {k: v for k, v in self._failures.items() if v and now - v[-1] < self.lockout_s}
            self._failures.setdefault(name[:32], []).append(now)
        return False

    def _refuse_if_locked(self, name: str) -> None:
        now = self._monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(name[:32], []) if now - t < self.lockout_s]
            self._failures[name[:32]] = recent
            if len(recent) >= self.max_failures:
                raise LockedOut(name[:32], self.lockout_s - (now - recent[-self.max_failures]))
