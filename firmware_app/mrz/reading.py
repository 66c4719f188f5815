"""Turning raw reader output into MRZ lines, or a typed MrzUnreadable explaining why not."""
from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from .charset import MRZ_CHARS
from .errors import MrzBadCharset, MrzTooLarge, MrzUnreadable, MrzWrongLength
from .formats import LAYOUTS, Layout, layout_for

# Three lines of 30 plus separators and stray blanks; anything far beyond is not one MRZ.
MAX_INPUT_CHARS = 512
MAX_INPUT_LINES = 8
_EXPECTED = "TD1 3x30, TD2/MRV-B 2x36, TD3/MRV-A 2x44"
_SINGLE_LINE_SHAPES = {lay.total_length: (lay.line_count, lay.line_length) for lay in LAYOUTS.values()}


def read_lines(text_or_lines: str | bytes | Sequence[str | bytes]) -> tuple[str, ...]:
    """Split, trim and validate the input; raise MrzUnreadable (sub)types on anything else."""
    fast = _fast_path(text_or_lines)
    if fast is not None:
        return fast
    if isinstance(text_or_lines, (str, bytes, bytearray)):
        text = _as_text(text_or_lines)
    elif isinstance(text_or_lines, Sequence):
        if len(text_or_lines) > MAX_INPUT_LINES:
            raise MrzTooLarge(f"{len(text_or_lines)} lines given; an MRZ has at most 3")
        text = "\n".join(_as_text(item) for item in text_or_lines)
    else:
        raise MrzUnreadable(f"MRZ input must be text or lines, not {type(text_or_lines).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise MrzTooLarge(f"{len(text)} characters given; an MRZ has at most 90")
    lines = tuple(line.strip(" \t") for line in text.splitlines() if line.strip(" \t"))
    _check_charset(lines)
    return _split_single_line(lines)


def _fast_path(given: object) -> tuple[str, ...] | None:
    """Clean lines as a reader driver delivers them: no splitting or trimming needed."""
    if type(given) not in (list, tuple):      # exactly these: a str subclass or mapping takes the slow path
        return None
    items = cast("Sequence[object]", given)
    if not 2 <= len(items) <= 3:
        return None
    lines = tuple(line for line in items if type(line) is str and len(line) <= 44 and MRZ_CHARS.issuperset(line))
    return lines if len(lines) == len(items) else None


def _as_text(item: object) -> str:
    if isinstance(item, (bytes, bytearray)):
        if len(item) > MAX_INPUT_CHARS:
            raise MrzTooLarge(f"{len(item)} bytes given; an MRZ has at most 90 characters")
        try:
            return bytes(item).decode("ascii")
        except UnicodeDecodeError as exc:
            raise MrzBadCharset(f"non-ASCII byte at offset {exc.start}") from None
    if isinstance(item, str):
        if len(item) > MAX_INPUT_CHARS:
            raise MrzTooLarge(f"{len(item)} characters given; an MRZ has at most 90")
        return item
    raise MrzUnreadable(f"MRZ line must be text, not {type(item).__name__}")


def _describe(char: str) -> str:
    if not char.isascii():
        return "non-ASCII character"
    if char.islower():
        return "lower-case letter (MRZ text is upper case)"
    if not char.isprintable():
        return f"control character 0x{ord(char):02X}"
    return f"character {char!r} outside A-Z, 0-9, '<'"


def _check_charset(lines: tuple[str, ...]) -> None:
    for line_no, line in enumerate(lines, 1):
        if MRZ_CHARS.issuperset(line):
            continue
        column, char = next((i, c) for i, c in enumerate(line, 1) if c not in MRZ_CHARS)
        raise MrzBadCharset(f"line {line_no}, column {column}: {_describe(char)}")


def _split_single_line(lines: tuple[str, ...]) -> tuple[str, ...]:
    """Some readers send the whole MRZ as one line; cut it where the format says."""
    if len(lines) == 1 and len(lines[0]) in _SINGLE_LINE_SHAPES:
        count, width = _SINGLE_LINE_SHAPES[len(lines[0])]
        return tuple(lines[0][i * width:(i + 1) * width] for i in range(count))
    return lines


def detect_layout(lines: tuple[str, ...]) -> Layout:
    layout = layout_for(lines)
    if layout is None:
        shape = ", ".join(str(len(line)) for line in lines) or "none"
        raise MrzWrongLength(f"{len(lines)} line(s) of length {shape}; expected {_EXPECTED}")
    return layout
