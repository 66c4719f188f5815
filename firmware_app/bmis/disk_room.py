"""Room on the outbox's disk: free space checked before events are stored, and a reserve file.

The outbox must never fill its own disk: a full disk cannot even commit an acknowledgement (each
PUBACK batch needs WAL space), so a backlog would stay pending for good. Events are refused
(OutboxFull "disk") while the filesystem still has `min_free_bytes` plus room for the WAL to grow
to its checkpoint size. When something else fills the disk, the reserve file beside the outbox
(`reserve_bytes`, allocated up front) is given up so status, alarms and acknowledgements can
still be committed; it is allocated again once there is room.
"""
from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)
WAL_MARGIN_PAGES = 256      # one large transaction on top of the checkpoint threshold


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's 'database or disk is full' (or an I/O error from ENOSPC)."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", 0) or 0
        return code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


class DiskRoom:
    def __init__(self, db_path: Path, min_free_bytes: int, reserve_bytes: int,
                 statvfs: Callable[[str], os.statvfs_result] = os.statvfs):
        self.db_path, self.min_free_bytes, self.reserve_bytes = db_path, min_free_bytes, reserve_bytes
        self.reserve_path = db_path.with_name(db_path.name + ".reserve")
        self._statvfs = statvfs
        self._pages: tuple[int, int] | None = None     # page size, WAL pages before a checkpoint

    def _page_info(self, conn: sqlite3.Connection) -> tuple[int, int]:
        if self._pages is None:     # fixed for the life of the connection
            self._pages = (conn.execute("PRAGMA page_size").fetchone()[0],
                           conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] + WAL_MARGIN_PAGES)
        return self._pages

    def free_bytes(self) -> int:
        stats = self._statvfs(str(self.db_path.parent))
        return stats.f_bavail * stats.f_frsize

    def wal_allowance(self, conn: sqlite3.Connection) -> int:
        """Bytes the WAL may still grow by before its next checkpoint lets it start over."""
        page_size, pages = self._page_info(conn)
        wal = self.db_path.with_name(self.db_path.name + "-wal")
        size = wal.stat().st_size if wal.exists() else 0
        return max(0, pages * page_size - size)

    def short_for_events(self, conn: sqlite3.Connection) -> bool:
        """True when storing another event would eat into what status, alarms and acks need.
        Pages the database freed (acknowledged messages) count as room: SQLite reuses them."""
        missing_reserve = 0 if self.reserve_path.exists() else self.reserve_bytes
        free_pages = conn.execute("PRAGMA freelist_count").fetchone()[0] * self._page_info(conn)[0]
        return self.free_bytes() + free_pages < self.min_free_bytes + self.wal_allowance(conn) + missing_reserve

    def ensure_reserve(self) -> bool:
        """Allocate the reserve when it is missing and the disk has room for it; True if present."""
        if self.reserve_bytes <= 0 or self.reserve_path.exists():
            return True
        if self.free_bytes() < self.min_free_bytes + 2 * self.reserve_bytes:
            return False
        try:
            fd = os.open(self.reserve_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
        except OSError as exc:
            log.warning("outbox disk reserve not allocated: %s", exc.strerror)
            self.reserve_path.unlink(missing_ok=True)
            return False

    def release(self) -> bool:
        """Give the reserve back to the filesystem; True when there was one to give."""
        try:
            self.reserve_path.unlink()
        except FileNotFoundError:
            return False
        log.error("disk full: outbox reserve of %d bytes released for status, alarms and acknowledgements",
                  self.reserve_bytes)
        return True
