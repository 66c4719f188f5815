"""The controller's socket protocol: one JSON object per line, versioned, bounded.

Both sides are local, but the controller treats every line as untrusted: a line is at most
MAX_LINE bytes, must decode to a JSON object of known `type`, and each field is checked for type
and size before it is used. Anything else is a ProtocolError (the controller drops that client).

appliance -> controller   {"v": 1, "type": "hello", "role": "appliance" | "monitor"}
                          {"type": "cmd", "id": 7, "op": OP, "door": "entry", "passage": "...", "on": true}
controller -> client      {"v": 1, "type": "welcome", "state": {...}}
                          {"type": "ack", "id": 7, "ok": true} | {"type": "ack", "id": 7, "ok": false, "refused": R}
                          {"type": "event", "kind": "door_opened", "door": "exit"} (kinds as GateEventKind,
                          plus "door_forced" and "stance")
test control socket       {"type": "sim", "op": "input", "name": "emergency", "on": true} -> {"type": "sim", ...}
"""
from __future__ import annotations

import enum
import json
from typing import Any

from drivers.errors import ProtocolError as ProtocolError  # callers catch it as proto.ProtocolError

Message = dict[str, Any]   # one decoded line: field names checked by decode()

VERSION = 1
MAX_LINE = 2048             # bytes, newline included; a status answer is well below
MAX_TEXT = 64               # any string field
MAX_PENDING = 64 * 1024     # bytes queued towards one client before it is dropped as stuck


class Op(str, enum.Enum):
    OPEN = "open"           # door, passage (required for the exit of a mantrap)
    CLOSE = "close"         # door
    SECURE = "secure"       # every door locked
    RELEASE = "release"     # every door released: accepted only while the emergency input is active
    LIGHT = "light"         # on
    BUZZER = "buzzer"       # on
    HEARTBEAT = "heartbeat"
    STATUS = "status"       # the answer's ack carries "state"


class Refusal(str, enum.Enum):
    EMERGENCY = "emergency"             # doors are released by the emergency input; nothing else
    NO_EMERGENCY = "no_emergency"       # release without the emergency input
    NO_SUCH_DOOR = "no_such_door"
    OTHER_DOOR_OPEN = "other_door_open"     # entry and exit never both open
    NOT_CURRENT_PASSAGE = "not_current_passage"
    PRESENCE = "presence"               # the exit needs exactly one person sensed
    FAULT = "fault"                     # tamper or a forced door latched: the controller holds the stance
    APPLIANCE_LOST = "appliance_lost"
    MONITOR = "monitor"                 # a monitor client may only ask for status
    BAD_REQUEST = "bad_request"


def encode(message: Message) -> bytes:
    line = json.dumps(message, separators=(",", ":")).encode() + b"\n"
    if len(line) > MAX_LINE:
        raise ProtocolError(f"message of {len(line)} bytes exceeds {MAX_LINE}")
    return line


def decode(line: bytes) -> Message:
    """One line (without its newline) -> a message dict with checked fields."""
    if len(line) >= MAX_LINE:
        raise ProtocolError("line too long")
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("not a message object")
    for key, value in message.items():
        _check_field(key, value)
    return message


_FIELD_TYPES = {"v": int, "id": int, "on": bool, "ok": bool, "count": int, "state": dict, "at": float}


def _check_field(key: str, value: object) -> None:
    if len(key) > MAX_TEXT:
        raise ProtocolError("field name too long")
    wanted = _FIELD_TYPES.get(key)
    if wanted is dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"{key} must be an object")
        return
    if wanted is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ProtocolError(f"{key} must be a number")
        return
    if wanted is not None:
        if type(value) is not wanted:
            raise ProtocolError(f"{key} must be {wanted.__name__}")
        return
    if value is not None and not (isinstance(value, str) and len(value) <= MAX_TEXT):
        raise ProtocolError(f"{key} must be a short string")


class LineBuffer:
    """Bytes in, whole lines out; a line longer than MAX_LINE is a ProtocolError at once."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        self._data += chunk
        lines: list[bytes] = []
        while True:
            end = self._data.find(b"\n")
            if end < 0:
                break
            lines.append(bytes(self._data[:end]))
            del self._data[:end + 1]
        if len(self._data) >= MAX_LINE or any(len(line) >= MAX_LINE for line in lines):
            raise ProtocolError("line too long")
        return lines


def command(msg_id: int, op: Op, **fields: object) -> Message:
    return {"type": "cmd", "id": msg_id, "op": op.value, **{k: v for k, v in fields.items() if v is not None}}


def parse_command(message: Message) -> tuple[int, Op]:
    try:
        return message["id"], Op(message.get("op"))
    except (KeyError, ValueError):
        raise ProtocolError("a command needs an id and a known op") from None
