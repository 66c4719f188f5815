"""The envelope every gate message carries, built from injected clock and id source.

seq and boot come from the outbox (persisted there, in the same transaction as the message), so
this module stays pure: same inputs, same bytes.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from .contract import MessageKind, check_segment, topic_for
from .link_errors import ContractViolation

Clock = Callable[[], dt.datetime]
IdSource = Callable[[], uuid.UUID]
MAX_PAYLOAD_BYTES = 256 * 1024


def utc_now() -> dt.datetime:
    """The production clock (injected; pure code never calls it itself)."""
    return dt.datetime.now(dt.timezone.utc)


def utc_text(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ContractViolation("time", ["naive datetime: the clock must give UTC-aware times"])
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Identity:
    device_id: str
    post_id: str
    prefix: str = "gates"

    def __post_init__(self) -> None:
        check_segment(self.device_id, "device id")
        check_segment(self.post_id, "post id")

    def topic(self, kind: MessageKind) -> str:
        return topic_for(self.prefix, self.device_id, kind)


@dataclass(frozen=True)
class Envelope:
    """One message ready to publish: what goes into the outbox row."""
    kind: MessageKind
    msg_id: str
    seq: int
    topic: str
    payload: bytes

    @property
    def retained(self) -> bool:
        return self.kind.retained


def build(identity: Identity, kind: MessageKind, data: dict[str, Any], *, msg_id: uuid.UUID, seq: int,
          boot: int, now: dt.datetime) -> dict[str, Any]:
    return {"schema": kind.schema_id, "msg_id": str(msg_id), "device_id": identity.device_id,
            "post_id": identity.post_id, "seq": seq, "boot": boot, "time": utc_text(now), "data": data}


def encode(message: dict[str, Any]) -> bytes:
    try:
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ContractViolation(message.get("schema", "?"), [f"not JSON-serialisable: {exc}"]) from exc
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractViolation(message.get("schema", "?"), [f"payload of {len(payload)} bytes is too large"])
    return payload


def decode(payload: bytes) -> dict[str, Any]:
    """A received message as a dict; ContractViolation for anything that is not a JSON object."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractViolation("payload", [f"{len(payload)} bytes is too large"])
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ContractViolation("payload", [f"not JSON: {type(exc).__name__}"]) from exc
    if not isinstance(message, dict):
        raise ContractViolation("payload", ["not a JSON object"])
    return message
