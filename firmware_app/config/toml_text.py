"""Writing a config back as TOML (the standard library only reads TOML).

Enough for the config model's values: strings, paths, enums, numbers, booleans, lists of them and
nested sections. `None` has no TOML spelling: such a key is left out (which means unset).
"""
from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return toml_value(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (str, PurePath)):
        # JSON's string escapes are all valid TOML basic-string escapes; TOML also forbids a raw DEL.
        return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise TypeError(f"no TOML spelling for {type(value).__name__}")


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    return text if any(c in text for c in ".en") else text + ".0"


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() and name.isascii() else json.dumps(name)


def dump_sections(data: Mapping[str, Any], comments: Mapping[str, str] | None = None) -> str:
    """Top-level mapping of sections -> TOML text; sub-mappings become [section.sub] tables.
    `comments` maps a key path to a one-line comment written above the key."""
    out: list[str] = []
    for name, body in data.items():
        if body is None:        # an optional section left out ([onestop])
            continue
        if isinstance(body, (list, tuple)):     # an array of tables ([[authority]])
            for item in body:
                _table(out, name, item, comments or {}, header=f"[[{name}]]")
            continue
        _table(out, name, body, comments or {})
    return "\n".join(out).strip() + "\n"


def _table(out: list[str], path: str, body: Mapping[str, Any], comments: Mapping[str, str],
           header: str | None = None) -> None:
    out += ["", header or f"[{path}]"]
    tables = []
    for key, value in body.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
            continue
        note = comments.get(f"{path}.{key}")
        if note:
            out.append(f"# {note}")
        out.append(f"{_key(key)} = {toml_value(value)}" if value is not None else f"# {_key(key)} = (unset)")
    for key, value in tables:
        _table(out, f"{path}.{_key(key)}", value, comments)
