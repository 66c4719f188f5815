"""What each BMIS command does, once it is verified. Effects go through injected ports only.

Parameters (the command's "params" object):
  set-mode        {"mode": "normal" | "assisted" | "registration_only" | "closed"}
  override        {"action": "open" | "close", "door": "entry" | "exit" | "all"}; operator_id required
  alerts-replace  {"list_id", "kind": "document" | "person", "version", "entries": [...]}
                  optionally in parts: + {"part": k, "parts": n} (see alert_staging.py)
  alerts-delta    {"list_id", "base_version", "version", "add": [...], "remove": [entry ids]}
  request-status  {} -> the lane's status in the result
  pki-update      {"files": [{"name": "DE-2026-11.ml", "data": "<base64>"}, ...]}: master lists,
                  CSCA certificates (DER/PEM) and CRLs for the passive-authentication trust store,
                  checked as `gatectl pki import` checks them (master lists pinned); the result
                  lists each file's outcome, and a refused file makes the answer a nack
"""
from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass
from typing import Callable, Protocol

from firmware_app.policy.modes import LaneMode

from .alert_store import AlertStore
from .command_model import Command, CommandName, CommandRefused, ResultReason

MAX_STATUS_KEYS = 64
MAX_PKI_FILES = 16
_PKI_FILE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class OverrideAction(str, enum.Enum):
    OPEN = "open"
    CLOSE = "close"


class Door(str, enum.Enum):
    ENTRY = "entry"
    EXIT = "exit"
    ALL = "all"


class LaneControl(Protocol):
    """The lane as commands see it. A refusal is raised as a GateError subclass."""

    def set_mode(self, mode: LaneMode, operator_id: str | None) -> None: ...

    def override_door(self, action: OverrideAction, door: Door, operator_id: str, command_id: str) -> None: ...

    def request_status(self) -> dict: ...


class PkiUpdater(Protocol):
    """The CSCA trust store as commands see it: import (name, bytes) files, return a per-file
    report; raise PkiUpdateRefused when any file is refused."""

    def apply(self, files: list[tuple[str, bytes]]) -> dict: ...


@dataclass(frozen=True)
class CommandPorts:
    lane: LaneControl
    alerts: AlertStore | None = None
    pki: PkiUpdater | None = None


def _choice(params: dict, key: str, enum_type: type[enum.Enum]):
    try:
        return enum_type(params.get(key))
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise CommandRefused(ResultReason.INVALID_PARAMS, f"{key} must be one of: {allowed}") from None


def _set_mode(command: Command, ports: CommandPorts) -> dict:
    mode = _choice(command.params, "mode", LaneMode)
    ports.lane.set_mode(mode, command.operator_id)
    return {"mode": mode.value}


def _override(command: Command, ports: CommandPorts) -> dict:
    if not command.operator_id:
        raise CommandRefused(ResultReason.INVALID_PARAMS, "an override needs operator_id")
    action = _choice(command.params, "action", OverrideAction)
    door = _choice(command.params, "door", Door)
    ports.lane.override_door(action, door, command.operator_id, command.command_id)
    return {"action": action.value, "door": door.value}


def _store(alerts: AlertStore | None) -> AlertStore:
    if alerts is None:
        raise CommandRefused(ResultReason.STORE_FAILED, "no alert-list store on this device")
    return alerts


def _alerts_replace(command: Command, ports: CommandPorts) -> dict:
    p, alerts = command.params, ports.alerts
    if "parts" in p or "part" in p:
        progress = _store(alerts).replace_part(p.get("list_id"), p.get("kind"), p.get("version"),
                                               p.get("part"), p.get("parts"), p.get("entries"))
        return {"list_id": p["list_id"], "version": p["version"], **progress}
    count = _store(alerts).replace(p.get("list_id"), p.get("kind"), p.get("version"), p.get("entries"))
    return {"list_id": p["list_id"], "version": p["version"], "entry_count": count}


def _alerts_delta(command: Command, ports: CommandPorts) -> dict:
    p, alerts = command.params, ports.alerts
    count = _store(alerts).apply_delta(p.get("list_id"), p.get("base_version"), p.get("version"),
                                       p.get("add", []), p.get("remove", []))
    return {"list_id": p["list_id"], "version": p["version"], "entry_count": count}


def _request_status(_command: Command, ports: CommandPorts) -> dict:
    status, alerts = ports.lane.request_status(), ports.alerts
    if not isinstance(status, dict) or len(status) > MAX_STATUS_KEYS:
        raise CommandRefused(ResultReason.INTERNAL_ERROR, "the lane gave no usable status")
    result = {"lane": dict(status)}
    if alerts is not None:
        result["alert_lists"] = {k: v for k, v in alerts.versions().items()}
    return result


def _pki_update(command: Command, ports: CommandPorts) -> dict:
    files = _pki_files(command.params.get("files"))
    if ports.pki is None:
        raise CommandRefused(ResultReason.STORE_FAILED, "no CSCA trust store on this device")
    return ports.pki.apply(files)


def _pki_files(files) -> list[tuple[str, bytes]]:
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_PKI_FILES:
        raise CommandRefused(ResultReason.INVALID_PARAMS, f"files must be a list of 1 to {MAX_PKI_FILES}")
    decoded = []
    for item in files:
        name = item.get("name") if isinstance(item, dict) else None
        data = item.get("data") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _PKI_FILE_NAME.match(name) or not isinstance(data, str):
            raise CommandRefused(ResultReason.INVALID_PARAMS, "each file needs a plain name and base64 data")
        try:
            decoded.append((name, base64.b64decode(data, validate=True)))
        except (binascii.Error, ValueError):
            raise CommandRefused(ResultReason.INVALID_PARAMS, f"{name}: data is not base64") from None
    return decoded


Handler = Callable[[Command, CommandPorts], dict]
HANDLERS: dict[CommandName, Handler] = {
    CommandName.SET_MODE: _set_mode,
    CommandName.OVERRIDE: _override,
    CommandName.ALERTS_REPLACE: _alerts_replace,
    CommandName.ALERTS_DELTA: _alerts_delta,
    CommandName.REQUEST_STATUS: _request_status,
    CommandName.PKI_UPDATE: _pki_update,
}
