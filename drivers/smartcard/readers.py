"""Choosing the PC/SC reader named by a pattern; a pattern that names several readers is refused.

A real pattern often matches more than one reader: "OMNIKEY" names both slots of a 5422 (contact
and contactless), an ACR1252 lists its PICC and its SAM slot, vpcd lists two virtual readers.
Guessing one of them would read the wrong slot, so the names are listed instead.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from drivers.errors import AmbiguousReader, ReaderNotFound


def matching(pattern: str, names: Sequence[str]) -> list[str]:
    """Readers whose name matches the pattern (shell wildcards) or contains it, ignoring case.
    A name equal to the pattern is the only match, so a full name always works."""
    wanted = pattern.strip().lower()
    exact = [name for name in names if name.lower() == wanted]
    if exact:
        return exact[:1]
    return [name for name in names if fnmatch.fnmatch(name.lower(), wanted) or wanted in name.lower()]


def choose_reader(pattern: str, names: Sequence[str]) -> str:
    if not pattern.strip():
        raise ReaderNotFound("the PC/SC reader pattern is empty")
    found = matching(pattern, names)
    if len(found) > 1:
        raise AmbiguousReader(f"PC/SC reader pattern {pattern!r} matches {len(found)} readers: "
                              f"{'; '.join(found)} (give one full name, e.g. pcsc://{found[0]})")
    if not found:
        listed = ", ".join(names) or "none"
        raise ReaderNotFound(f"no PC/SC reader matches {pattern!r} (readers: {listed})")
    return found[0]
