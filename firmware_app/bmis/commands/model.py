"""BMIS commands as data: names, reason codes, the result body, and parsing of the raw payload.

A command is published by the BMIS on `{prefix}/v1/{device}/cmd/{name}` (schemas/cmd.json):

    {"command_id": "…", "issued_at": "2026-11-26T10:00:00Z", "expires_at": "2026-11-26T10:05:00Z",
     "operator_id": "officer-17", "params": {…}, "signature": {"alg": "Ed25519", …}}

Parsing never raises on hostile bytes: it raises CommandRefused carrying the reason code, which
the processor turns into a nack.
"""
from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..errors import BmisCommandError

MAX_ID_CHARS = 128
MAX_OPERATOR_CHARS = 64
_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


class CommandName(str, enum.Enum):
    SET_MODE = "set-mode"
    OVERRIDE = "override"
    ALERTS_REPLACE = "alerts-replace"
    ALERTS_DELTA = "alerts-delta"
    REQUEST_STATUS = "request-status"
    PKI_UPDATE = "pki-update"
    UPDATE_APPLY = "update-apply"


# Commands that change security state: refused unless signed by a key in the trust store.
SIGNED_COMMANDS = frozenset({CommandName.SET_MODE, CommandName.OVERRIDE,
                             CommandName.ALERTS_REPLACE, CommandName.ALERTS_DELTA, CommandName.PKI_UPDATE,
                             CommandName.UPDATE_APPLY})


class ResultReason(str, enum.Enum):
    OK = "ok"
    DUPLICATE = "duplicate"                  # same command delivered again: the first answer
    MALFORMED = "malformed"                  # not JSON, not an object, envelope fields wrong
    TOO_LARGE = "too_large"
    UNKNOWN_COMMAND = "unknown_command"
    WRONG_TOPIC = "wrong_topic"              # not this device's cmd/ topic
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"          # issued in the future beyond the allowed clock skew
    LIFETIME_TOO_LONG = "lifetime_too_long"
    REPLAYED = "replayed"                    # a known command id with different content
    CLOCK_UNTRUSTED = "clock_untrusted"      # expires before an id the guard forgot: clock stepped back?
    INVALID_PARAMS = "invalid_params"
    VERSION_CONFLICT = "version_conflict"    # alert delta on another base version
    LANE_REFUSED = "lane_refused"
    STORE_FAILED = "store_failed"
    PKI_REFUSED = "pki_refused"              # a CSCA/CRL/master-list file was refused (result: per file)
    INTERNAL_ERROR = "internal_error"


class CommandStatus(str, enum.Enum):
    ACK = "ack"
    NACK = "nack"


class CommandRefused(BmisCommandError):
    """A command is refused; `reason` says why and `alarm` whether it is a security event."""

    def __init__(self, reason: ResultReason, detail: str = "", *, alarm: bool = False):
        self.reason, self.detail, self.alarm = reason, detail[:200], alarm
        super().__init__(f"{reason.value}: {detail}")


@dataclass(frozen=True)
class CommandResult:
    """The cmd-result body (the link adds the envelope, topic and correlation data)."""
    status: CommandStatus
    reason: ResultReason
    command_id: str | None = None
    command: str | None = None
    detail: str = ""
    alarm: bool = False                      # a refused signature: the link raises an alarm
    result: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        body: dict[str, object] = {"command_id": self.command_id, "command": self.command, "status": self.status.value,
                "reason": self.reason.value, "detail": self.detail, "alarm": self.alarm}
        if self.result:
            body["result"] = dict(self.result)
        return body


@dataclass(frozen=True)
class Command:
    name: CommandName
    topic: str
    body: dict
    command_id: str
    issued_at: datetime
    expires_at: datetime
    operator_id: str | None

    @property
    def params(self) -> dict:
        params = self.body.get("params", {})
        if not isinstance(params, dict):
            raise CommandRefused(ResultReason.INVALID_PARAMS, "params must be an object")
        return params


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    # Two parsers could read a duplicated key differently; a signed command must be unambiguous.
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key in object")
    return dict(pairs)


def decode_json(payload: bytes, max_bytes: int) -> dict:
    if not isinstance(payload, (bytes, bytearray)):
        raise CommandRefused(ResultReason.MALFORMED, "payload is not bytes")
    if len(payload) > max_bytes:
        raise CommandRefused(ResultReason.TOO_LARGE, f"payload over {max_bytes} bytes")
    try:
        body = json.loads(bytes(payload).decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CommandRefused(ResultReason.MALFORMED, f"not JSON: {type(exc).__name__}") from None
    if not isinstance(body, dict):
        raise CommandRefused(ResultReason.MALFORMED, "payload is not a JSON object")
    return body


def parse_utc(value: object, what: str) -> datetime:
    if not isinstance(value, str) or not _UTC_TIME.match(value):
        raise CommandRefused(ResultReason.MALFORMED, f"{what} must be a UTC time like 2026-01-31T12:00:00Z")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise CommandRefused(ResultReason.MALFORMED, f"{what} is not a valid time") from None


def _text(body: dict, key: str, limit: int, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise CommandRefused(ResultReason.MALFORMED, f"{key} must be a string of 1..{limit} characters")
    return value


def parse_command(name: CommandName, topic: str, body: dict) -> Command:
    command_id = _text(body, "command_id", MAX_ID_CHARS, required=True)
    assert command_id is not None           # required: refused above when absent
    return Command(name, topic, body,
                   command_id=command_id,
                   issued_at=parse_utc(body.get("issued_at"), "issued_at"),
                   expires_at=parse_utc(body.get("expires_at"), "expires_at"),
                   operator_id=_text(body, "operator_id", MAX_OPERATOR_CHARS, required=False))


def command_name_of(topic: object, device_root: str) -> CommandName:
    """`{device_root}/cmd/{name}` -> CommandName, else CommandRefused(WRONG_TOPIC / UNKNOWN_COMMAND)."""
    prefix = f"{device_root}/cmd/"
    if not isinstance(topic, str) or not topic.startswith(prefix):
        raise CommandRefused(ResultReason.WRONG_TOPIC, "not this device's command topic")
    try:
        return CommandName(topic[len(prefix):])
    except ValueError:
        raise CommandRefused(ResultReason.UNKNOWN_COMMAND, topic[len(prefix):][:64]) from None
