"""What each BMIS command does, once it is verified. Effects go through injected ports only.

Parameters (the command's "params" object):
  set-mode        {"mode": "normal" | "assisted" | "registration_only" | "closed"}
  override        {"action": "open" | "close", "door": "entry" | "exit" | "all"}; operator_id required
  alerts-replace  {"list_id", "kind": "document" | "person", "version", "entries": [...]}
                  optionally in parts: + {"part": k, "parts": n} (see alert_staging.py)
  alerts-delta    {"list_id", "base_version", "version", "add": [...], "remove": [entry ids]}
  request-status  {} -> the lane's status in the result
"""
from __future__ import annotations

import enum
from typing import Callable, Protocol

from firmware_app.policy.modes import LaneMode

from .alert_store import AlertStore
from .command_model import Command, CommandName, CommandRefused, ResultReason

MAX_STATUS_KEYS = 64


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


def _choice(params: dict, key: str, enum_type: type[enum.Enum]):
    try:
        return enum_type(params.get(key))
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise CommandRefused(ResultReason.INVALID_PARAMS, f"{key} must be one of: {allowed}") from None


def _set_mode(command: Command, lane: LaneControl, _alerts: AlertStore | None) -> dict:
    mode = _choice(command.params, "mode", LaneMode)
    lane.set_mode(mode, command.operator_id)
    return {"mode": mode.value}


def _override(command: Command, lane: LaneControl, _alerts: AlertStore | None) -> dict:
    if not command.operator_id:
        raise CommandRefused(ResultReason.INVALID_PARAMS, "an override needs operator_id")
    action = _choice(command.params, "action", OverrideAction)
    door = _choice(command.params, "door", Door)
    lane.override_door(action, door, command.operator_id, command.command_id)
    return {"action": action.value, "door": door.value}


def _store(alerts: AlertStore | None) -> AlertStore:
    if alerts is None:
        raise CommandRefused(ResultReason.STORE_FAILED, "no alert-list store on this device")
    return alerts


def _alerts_replace(command: Command, _lane: LaneControl, alerts: AlertStore | None) -> dict:
    p = command.params
    if "parts" in p or "part" in p:
        progress = _store(alerts).replace_part(p.get("list_id"), p.get("kind"), p.get("version"),
                                               p.get("part"), p.get("parts"), p.get("entries"))
        return {"list_id": p["list_id"], "version": p["version"], **progress}
    count = _store(alerts).replace(p.get("list_id"), p.get("kind"), p.get("version"), p.get("entries"))
    return {"list_id": p["list_id"], "version": p["version"], "entry_count": count}


def _alerts_delta(command: Command, _lane: LaneControl, alerts: AlertStore | None) -> dict:
    p = command.params
    count = _store(alerts).apply_delta(p.get("list_id"), p.get("base_version"), p.get("version"),
                                       p.get("add", []), p.get("remove", []))
    return {"list_id": p["list_id"], "version": p["version"], "entry_count": count}


def _request_status(_command: Command, lane: LaneControl, alerts: AlertStore | None) -> dict:
    status = lane.request_status()
    if not isinstance(status, dict) or len(status) > MAX_STATUS_KEYS:
        raise CommandRefused(ResultReason.INTERNAL_ERROR, "the lane gave no usable status")
    result = {"lane": dict(status)}
    if alerts is not None:
        result["alert_lists"] = {k: v for k, v in alerts.versions().items()}
    return result


Handler = Callable[[Command, LaneControl, "AlertStore | None"], dict]
HANDLERS: dict[CommandName, Handler] = {
    CommandName.SET_MODE: _set_mode,
    CommandName.OVERRIDE: _override,
    CommandName.ALERTS_REPLACE: _alerts_replace,
    CommandName.ALERTS_DELTA: _alerts_delta,
    CommandName.REQUEST_STATUS: _request_status,
}
