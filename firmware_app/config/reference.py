"""Every config key with its type, default and description, read from the model itself.

`gatectl config reference` prints it; docs/config-reference.md is its output (a test keeps the
file current and makes sure no key goes undescribed). Descriptions come from the field's
`description`, or from key_docs.py for the fields whose model line carries none.
"""
from __future__ import annotations

import enum
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .key_docs import KEY_DOCS
from .model import GateConfig
from .toml_text import toml_value


@dataclass(frozen=True)
class KeyDoc:
    path: str           # e.g. "bmis.cert_file"
    type: str
    default: str        # as TOML would spell it; "(required)" or "(unset)"
    description: str


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _key_doc(path: str) -> str:
    """An [[authority]]'s own [bmis] keys mean what the lane's [bmis] keys mean."""
    if path.startswith("authority[].bmis."):
        return KEY_DOCS.get(path.removeprefix("authority[]."), "")
    return KEY_DOCS.get(path, "")


def _optional_or_listed_model(annotation: Any) -> type[BaseModel] | None:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 and _is_model(args[0]) else None


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(f'"{m.value}"' for m in annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, __import__("types").UnionType):
        return " | ".join("unset" if a is type(None) else _type_name(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    return {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def _default_text(field) -> str:
    if field.is_required():
        return "(required)"
    value = field.get_default(call_default_factory=True)
    return "(unset)" if value is None else toml_value(value)


def key_docs(model: type[BaseModel] = GateConfig, prefix: str = "") -> list[KeyDoc]:
    """Leaves only: a nested section is walked, not listed (its keys carry the path)."""
    docs: list[KeyDoc] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        if _is_model(field.annotation):
            docs += key_docs(field.annotation, f"{path}.")  # type: ignore[arg-type]  # _is_model checked it
            continue
        section = _optional_or_listed_model(field.annotation)
        if section is not None:     # [onestop] (optional) and [[authority]] (a list of tables)
            docs += key_docs(section, f"{path}[]." if typing.get_origin(field.annotation) is list else f"{path}.")
            continue
        description = field.description or _key_doc(path)
        docs.append(KeyDoc(path, _type_name(field.annotation), _default_text(field), description))
    return docs


def render_markdown(docs: list[KeyDoc] | None = None) -> str:
    docs = key_docs() if docs is None else docs
    lines = ["# Configuration reference", "",
             "Generated from the config model (`gatectl config reference > docs/config-reference.md`);",
             "do not edit by hand. Unknown keys are errors. `gatectl config show` prints a file's",
             "effective values with these defaults filled in.", ""]
    section = None
    for doc in docs:
        top = doc.path.split(".")[0]
        if top != section:
            section = top
            lines += ["", f"## [{section}]", "", "| key | type | default | description |", "|---|---|---|---|"]
        lines.append(f"| `{doc.path}` | {_cell(doc.type)} | `{_cell(doc.default)}` | {_cell(doc.description)} |")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
