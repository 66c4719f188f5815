"""The appliance's SQLite files around an update.

A new release may migrate a file forward (firmware_app/storage); the release it replaced then
refuses that file (SchemaTooNew) and could not start after a rollback. So before installing, the
updater copies every SQLite file of the data directory (SQLite's online backup: consistent while
the app writes) with the schema version it had. On rollback, with the app stopped, a file whose
version went up is put aside under `<name>.from-<version>` (with its WAL, so nothing written by
the new release is lost; the alarm names it) and the copy from before the update takes its place,
with the owner and mode the file had.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DeployError

MANIFEST = "manifest.json"
MARGIN_BYTES = 64 << 20    # the outbox's own free-space floor is 64 MiB: keep that much after the copy
SIDE_FILES = ("-wal", "-shm")


@dataclass
class StateSnapshot:
    directory: Path
    versions: dict[str, int] = field(default_factory=dict)   # file name -> user_version at the copy


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _backup(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _databases(data_dir: Path) -> list[Path]:
    return [p for p in sorted(Path(data_dir).glob("*.db")) if p.is_file() and _is_sqlite(p)]


def _check_room(files: list[Path], into: Path, free_bytes: Callable[[Path], int]) -> None:
    """The copies need about the files' size (WAL included) and a margin; refused before anything."""
    needed = sum(f.stat().st_size + _size(Path(f"{f}-wal")) for f in files) + MARGIN_BYTES
    free = free_bytes(into)
    if free < needed:
        raise DeployError(f"not enough free space for the copy of the SQLite files before the update: "
                          f"{free >> 20} MiB free in {into}, {needed >> 20} MiB needed")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def snapshot(data_dir: Path, into: Path,
             free_bytes: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free) -> StateSnapshot:
    """Copy every SQLite file of `data_dir` (top level) into `into` (emptied first)."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(mode=0o700, parents=True)
    taken = StateSnapshot(into)
    files = _databases(data_dir)
    _check_room(files, into, free_bytes)
    for path in files:
        try:
            _backup(path, into / path.name)
            taken.versions[path.name] = _user_version(into / path.name)
        except sqlite3.Error as exc:
            raise DeployError(f"cannot copy {path} before the update: {exc}") from None
    (into / MANIFEST).write_text(json.dumps(taken.versions, indent=1))
    return taken


def restore_if_newer(data_dir: Path, taken: StateSnapshot, new_version: str) -> list[str]:
    """With the app stopped: files the new release migrated forward go back to their copies.
    Returns the names of the files put back."""
    restored = []
    for name, version in sorted(taken.versions.items()):
        live = Path(data_dir) / name
        try:
            newer = live.is_file() and _user_version(live) > version
        except sqlite3.Error:
            newer = True    # unreadable after the new release: the copy is the safe state
        if newer:
            _put_back(live, taken.directory / name, new_version)
            restored.append(name)
    return restored


def _put_back(live: Path, copy: Path, new_version: str) -> None:
    stat = live.stat()
    aside = live.with_name(f"{live.name}.from-{new_version}")
    for suffix in ("", *SIDE_FILES):     # the WAL keeps its name relation: the aside file stays whole
        if Path(f"{live}{suffix}").exists():
            os.replace(f"{live}{suffix}", f"{aside}{suffix}")
    partial = live.with_name(live.name + ".restoring")
    shutil.copyfile(copy, partial)
    os.chown(partial, stat.st_uid, stat.st_gid)
    os.chmod(partial, stat.st_mode & 0o7777)
    os.replace(partial, live)
