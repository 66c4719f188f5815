"""Loading and checking config files. Every problem names its key path."""
from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from ..errors import ConfigError
from .model import GateConfig
from .permissions import permission_problems

MAX_CONFIG_BYTES = 1 << 20


def _key_path(location: tuple) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        path = _key_path(item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(f"{path}: unknown key")
        elif item["type"] == "missing":
            problems.append(f"{path}: required key is missing")
        else:
            problems.append(f"{path}: {item['msg']}")
    return problems


def parse_config(text: str) -> GateConfig:
    """Parse TOML text into a GateConfig or raise ConfigError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"]) from None
    try:
        return GateConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def load_config(path: str | Path) -> GateConfig:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{path}: larger than {MAX_CONFIG_BYTES} bytes"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    return parse_config(text)


def check_config_file(path: str | Path) -> list[str]:
    """Return the list of problems in a config file (empty when it is valid): its keys and values,
    then the owners and modes of the trust anchors and keys it names (config/permissions.py)."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return exc.problems
    return permission_problems(config)
