"""The effective config (every default filled in) as TOML, for `gatectl config show` and for the
file `gatectl provision` writes. Secrets are masked in what is shown: private-key paths,
passwords, tokens and the renewal helper's command line."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..config.model import GateConfig
from ..config.reference import key_docs
from ..config.toml_text import dump_sections

MASK = "***masked***"
_SECRET_NAME = re.compile(r"(^|_)(key_file|password|secret|token|token_file|renew_command)$")


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def effective(config: GateConfig) -> dict[str, Any]:
    return config.model_dump(mode="json")


def masked(data: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, Mapping):
            result[name] = masked(value)
        elif _tables(value):        # [[authority]]: each table masked alike
            result[name] = [masked(item) for item in value]
        elif is_secret_key(name) and value not in (None, [], ""):
            result[name] = MASK
        else:
            result[name] = value
    return result


def secret_values(data: Mapping[str, Any]) -> set[str]:
    """The texts masked in `masked(data)`, to be masked wherever else they appear (a selftest line
    naming the key file). Short command words ("sh", "curl") are left: they say nothing."""
    found: set[str] = set()
    for name, value in data.items():
        if isinstance(value, Mapping):
            found |= secret_values(value)
        elif _tables(value):
            for item in value:
                found |= secret_values(item)
        elif is_secret_key(name) and value:
            items = value if isinstance(value, list) else [value]
            found |= {str(item) for item in items if len(str(item)) >= 8}
    return found


def _tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)


def show_text(config: GateConfig) -> str:
    return dump_sections(masked(effective(config)))


def config_text(config: GateConfig, header: str = "") -> str:
    """A complete config file: every key with its effective value and its description above it."""
    comments = {doc.path: doc.description for doc in key_docs()}
    return header + dump_sections(effective(config), comments)
