"""Owners and modes of the trust anchors and keys a config names (`gatectl config check`).

A CSCA certificate or a BMIS command key that another local user can replace, or a private key
another user can read, turns a local foothold into forged passports, forged commands or a stolen
device identity. So every such path must be owned by root or by the user running the check (the
gate user in `ExecStartPre=`), must not be writable by group or others, and a file holding a
private key must not be readable by group or others either. A path named in two roles (the same
PEM as certificate, key and CA) gets the strictest rule of its roles, and a certificate or CA file
that turns out to hold a private key is treated as a key. Paths that do not exist are left to the
components that load them (they refuse to start without them).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .model import GateConfig

MAX_SNIFF_BYTES = 1 << 20   # a certificate bundle larger than this is not read for a key marker
MAX_DIR_ENTRIES = 10_000    # a trust directory is walked one level deep, this many entries at most
_KEY_MARKER = b"PRIVATE KEY-----"


@dataclass(frozen=True)
class Anchor:
    role: str           # the key path in the config, e.g. "bmis.key_file"
    path: Path
    secret: bool        # holds a private key: no read access for group/others
    directory: bool     # a trust directory: its entries are checked too


def anchors(config: GateConfig) -> list[Anchor]:
    bmis, card = config.bmis, config.smartcard
    found = [Anchor("smartcard.csca_dir", card.csca_dir, False, True),
             Anchor("bmis.command_keys_dir", bmis.command_keys_dir, False, True)]
    for role, path, secret in (("smartcard.master_list", card.master_list, False),
                               ("bmis.ca_file", bmis.ca_file, False),
                               ("bmis.cert_file", bmis.cert_file, False),
                               ("bmis.key_file", bmis.key_file, True),
                               ("officer.cert_file", config.officer.cert_file, False),
                               ("officer.key_file", config.officer.key_file, True),
                               ("officer.credential_file", config.officer.credential_file, True)):
        if path is not None:
            found.append(Anchor(role, Path(path), secret, False))
    found += [Anchor("smartcard.master_list_roots", Path(p), False, False) for p in card.master_list_roots]
    for authority in config.authority:     # one-stop post: each authority's own keys and CA
        found += _bmis_anchors(f"authority[{authority.role.value}].bmis", authority.bmis)
        found += _officer_anchors(f"authority[{authority.role.value}].officers", authority.officers)
    return found


def _officer_anchors(prefix: str, officers) -> list[Anchor]:
    """An authority's own officer console: its TLS pair and its officers' credential file."""
    if not officers.enabled:
        return []
    return [Anchor(f"{prefix}.{name}", Path(path), secret, False) for name, path, secret in (
        ("cert_file", officers.cert_file, False), ("key_file", officers.key_file, True),
        ("credential_file", officers.credential_file, True)) if path is not None]


def _bmis_anchors(prefix: str, bmis) -> list[Anchor]:
    found = [Anchor(f"{prefix}.command_keys_dir", bmis.command_keys_dir, False, True)]
    for name, secret in (("ca_file", False), ("cert_file", False), ("key_file", True)):
        path = getattr(bmis, name)
        if path is not None:
            found.append(Anchor(f"{prefix}.{name}", Path(path), secret, False))
    return found


def permission_problems(config: GateConfig, euid: int | None = None) -> list[str]:
    """Every unsafe owner or mode among the config's trust anchors and keys, with its fix."""
    euid = os.geteuid() if euid is None else euid
    secret_paths = {_real(a.path) for a in anchors(config) if a.secret}
    problems: list[str] = []
    for anchor in anchors(config):
        secret = anchor.secret or _real(anchor.path) in secret_paths
        problems += _check_anchor(anchor, secret, euid)
    return problems


def _real(path: Path) -> str:
    return os.path.realpath(path)


def _check_anchor(anchor: Anchor, secret: bool, euid: int) -> list[str]:
    try:
        info = os.stat(anchor.path)
    except OSError:
        return []
    problems = _check_parent(anchor, euid)
    if anchor.directory and stat.S_ISDIR(info.st_mode):
        problems += _check_one(anchor.role, anchor.path, info, False, euid)
        for entry in _entries(anchor.path):
            problems += _check_path(anchor.role, entry, False, euid)
        return problems
    return problems + _check_one(anchor.role, anchor.path, info, secret or _holds_key(anchor.path), euid)


def _entries(directory: Path) -> list[Path]:
    try:
        with os.scandir(directory) as listing:
            return [Path(e.path) for _, e in zip(range(MAX_DIR_ENTRIES), listing)]
    except OSError:
        return []


def _check_path(role: str, path: Path, secret: bool, euid: int) -> list[str]:
    try:
        info = os.stat(path)
    except OSError:
        return []
    return _check_one(role, path, info, secret or (stat.S_ISREG(info.st_mode) and _holds_key(path)), euid)


def _check_parent(anchor: Anchor, euid: int) -> list[str]:
    """A directory others may write into lets them swap the file (unless it is sticky, like /tmp)."""
    parent = Path(os.path.realpath(anchor.path)).parent
    try:
        info = os.stat(parent)
    except OSError:
        return []
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
        return [f"{anchor.role}: {parent} (the directory holding {anchor.path}) is writable by "
                f"{_who(info.st_mode, stat.S_IWGRP, stat.S_IWOTH)}: anyone there can replace it; "
                f"fix: chmod go-w {parent}"]
    return []


def _check_one(role: str, path: Path, info: os.stat_result, secret: bool, euid: int) -> list[str]:
    problems = []
    if info.st_uid not in (0, euid):
        problems.append(f"{role}: {path} is owned by uid {info.st_uid}, not by root or the gate user "
                        f"(uid {euid}); fix: chown {'' if secret else 'root:'}{_user(euid)} {path}")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problems.append(f"{role}: {path} is writable by {_who(info.st_mode, stat.S_IWGRP, stat.S_IWOTH)} "
                        f"(mode {stat.S_IMODE(info.st_mode):04o}): they could plant their own trust anchor; "
                        f"fix: chmod go-w {path}")
    if secret and info.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        problems.append(f"{role}: {path} holds a private key readable by "
                        f"{_who(info.st_mode, stat.S_IRGRP, stat.S_IROTH)} (mode {stat.S_IMODE(info.st_mode):04o}); "
                        f"fix: chmod 600 {path}")
    return problems


def _holds_key(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return _KEY_MARKER in handle.read(MAX_SNIFF_BYTES)
    except OSError:
        return False


def _who(mode: int, group_bit: int, other_bit: int) -> str:
    both = [name for name, bit in (("its group", group_bit), ("other users", other_bit)) if mode & bit]
    return " and ".join(both)


def _user(uid: int) -> str:
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)
