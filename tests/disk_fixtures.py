"""A small real filesystem for full-disk tests: a tmpfs mount with a size (needs root), and a
filler that takes every free byte, as another program on the same partition would.

    from tests.disk_fixtures import small_disk  # noqa: F401  (fixture)
"""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

SIZE = "8m"


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (root needed): {done.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


class DiskFiller:
    """Another program's file, grown until the filesystem has no byte left."""

    def __init__(self, directory: Path):
        self.path = directory / "other-program.log"

    def fill(self) -> int:
        written = 0
        block = b"\0" * 65536
        with open(self.path, "ab", buffering=0) as out:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        written += out.write(block[:size])
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
        return written

    def take(self, size: int) -> None:
        """Occupy `size` bytes only (a partition already partly used by others)."""
        with open(self.path, "ab") as out:
            out.write(b"\0" * size)
            out.flush()
            os.fsync(out.fileno())

    def free(self) -> None:
        os.unlink(self.path)


def free_bytes(directory: Path) -> int:
    stats = os.statvfs(directory)
    return stats.f_bavail * stats.f_frsize
