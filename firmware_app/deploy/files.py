"""Files written the way a gate's identity needs them: atomically (temp file + rename in the same
directory, fsynced), with the mode set before any byte is written, and owned by the right user."""
from __future__ import annotations

import grp
import os
import pwd
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import DeployError


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int
    name: str

    @classmethod
    def named(cls, user: str) -> Owner:
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise DeployError(f"no user {user!r} on this machine (the package creates 'gate'; "
                              "or give --owner USER)") from None
        return cls(entry.pw_uid, entry.pw_gid, user)

    @classmethod
    def current(cls) -> Owner:
        return cls(os.geteuid(), os.getegid(), pwd.getpwuid(os.geteuid()).pw_name)

    def group_name(self) -> str:
        try:
            return grp.getgrgid(self.gid).gr_name
        except KeyError:
            return str(self.gid)


def write_atomic(path: Path, data: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> None:
    """Write `data` to `path` in one step: a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        if uid is not None or gid is not None:
            os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        _unlink(Path(temp))
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_directory(path: Path, mode: int, uid: int | None = None, gid: int | None = None) -> bool:
    """Create (or tighten) a directory; True when something changed."""
    changed = not path.is_dir()
    path.mkdir(parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & 0o7777 != mode:
        path.chmod(mode)
        changed = True
    wanted = (info.st_uid if uid is None else uid, info.st_gid if gid is None else gid)
    if (info.st_uid, info.st_gid) != wanted:
        os.chown(path, *wanted)
        changed = True
    return changed


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """A file the tools parse, refused when larger than `limit` (all our inputs are small)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DeployError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise DeployError(f"{what} {path} is larger than {limit} bytes")
    return data


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
