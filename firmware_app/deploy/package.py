"""Package files: what a .deb claims to be, its hash, and the store of kept packages.

The store (`[update] packages_dir`, by default `<data_dir>/packages`) keeps the package of every
version installed through the updater (the newest `keep` of them, always the current and the
previous one), so a failed update can reinstall the version it replaced without any network.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import PackageInvalid

PACKAGE_NAME = "border-gate"
MAX_PACKAGE_BYTES = 2 << 30
_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~-]{0,63}$")
_ARCH = re.compile(r"^[a-z0-9-]{1,16}$")
Run = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class PackageInfo:
    path: Path
    name: str
    version: str
    arch: str
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.name}_{self.version}_{self.arch}.deb"

    def to_dict(self) -> dict:
        return {"file": str(self.path), "package": self.name, "version": self.version,
                "arch": self.arch, "sha256": self.sha256}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inspect_package(path: Path, expected_sha256: str | None = None, *, run: Run = subprocess.run,
                    max_bytes: int = MAX_PACKAGE_BYTES) -> PackageInfo:
    """The package's name, version and architecture from its control file, checked; raises PackageInvalid."""
    path = Path(path)
    if not path.is_file():
        raise PackageInvalid(f"{path}: no such file")
    if path.stat().st_size > max_bytes:
        raise PackageInvalid(f"{path}: larger than {max_bytes} bytes")
    digest = sha256_of(path)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise PackageInvalid(f"{path}: sha256 {digest} is not the expected {expected_sha256.lower()}")
    name, version, arch = _control_fields(path, run)
    if name != PACKAGE_NAME:
        raise PackageInvalid(f"{path}: package {name!r}, not {PACKAGE_NAME}")
    if not _VERSION.match(version) or not _ARCH.match(arch):
        raise PackageInvalid(f"{path}: unusable version {version!r} or architecture {arch!r}")
    return PackageInfo(path, name, version, arch, digest)


def _control_fields(path: Path, run: Run) -> tuple[str, str, str]:
    try:
        done = run(["dpkg-deb", "-f", str(path), "Package", "Version", "Architecture"],
                   capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackageInvalid(f"{path}: cannot run dpkg-deb ({exc})") from None
    if done.returncode != 0:
        raise PackageInvalid(f"{path}: not a Debian package ({done.stderr.strip()[:200]})")
    fields = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    return fields.get("Package", ""), fields.get("Version", ""), fields.get("Architecture", "")


class PackageStore:
    def __init__(self, directory: Path, *, keep: int = 3, run: Run = subprocess.run):
        self.directory, self.keep_count, self._run = Path(directory), max(2, keep), run

    def keep(self, info: PackageInfo) -> PackageInfo:
        """A copy in the store (written aside, checked, then renamed: never a half file)."""
        self.directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        target = self.directory / info.file_name
        if target.is_file() and sha256_of(target) == info.sha256:
            return PackageInfo(target, info.name, info.version, info.arch, info.sha256)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(info.path, partial)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        if sha256_of(partial) != info.sha256:
            partial.unlink()
            raise PackageInvalid(f"{info.path}: the copy in {self.directory} does not match its hash")
        os.replace(partial, target)
        return PackageInfo(target, info.name, info.version, info.arch, info.sha256)

    def find(self, version: str) -> PackageInfo | None:
        for path in sorted(self.directory.glob(f"{PACKAGE_NAME}_{version}_*.deb")):
            try:
                return inspect_package(path, run=self._run)
            except PackageInvalid:
                continue
        return None

    def versions(self) -> list[str]:
        return sorted({p.name.split("_")[1] for p in self.directory.glob(f"{PACKAGE_NAME}_*_*.deb")})

    def prune(self, current: str, previous: str | None) -> list[Path]:
        """Drop the oldest kept packages beyond `keep`, never the current or the previous one."""
        files = sorted(self.directory.glob(f"{PACKAGE_NAME}_*_*.deb"), key=lambda p: p.stat().st_mtime)
        spare = [p for p in files if p.name.split("_")[1] not in (current, previous)]
        dropped = spare[:max(0, len(files) - self.keep_count)]
        for path in dropped:
            path.unlink()
        return dropped
