"""Turn one delivery into a row to store or a rejection (pure: the clock's reading is passed in).

The device is the topic's (the broker's ACL binds it to the gate's certificate); a payload naming
another device is refused and counted, never stored under either name.
"""
from __future__ import annotations

import json

from ..contract import CONTRACT_MAJOR, MessageKind, decode, kind_of_topic, problems
from ..errors import ContractViolation
from .records import Rejection, RejectReason, StoredMessage

# What a gate publishes; retained status/health need a plain subscription (not delivered on $share).
SHARED_SUFFIXES = ("events/#", "alarms", "stats", "cmd-result/#")
PLAIN_SUFFIXES = ("status", "health")
MAX_DETAIL = 1000


def topic_filters(prefix: str, group: str) -> tuple[str, ...]:
    shared = tuple(f"$share/{group}/{prefix}/{CONTRACT_MAJOR}/+/{s}" for s in SHARED_SUFFIXES)
    return shared + tuple(f"{prefix}/{CONTRACT_MAJOR}/+/{s}" for s in PLAIN_SUFFIXES)


def classify(prefix: str, topic: str, payload: bytes, now: float) -> StoredMessage | Rejection:
    try:
        device_id, kind = _parse_topic(prefix, topic)
    except ContractViolation as exc:
        return Rejection(topic[:256], RejectReason.BAD_TOPIC, str(exc)[:MAX_DETAIL], now)
    try:
        message = decode(payload)
    except ContractViolation as exc:
        return Rejection(topic, RejectReason.NOT_JSON, str(exc)[:MAX_DETAIL], now)
    found = problems(kind.schema_file, message)
    if found:
        return Rejection(topic, RejectReason.SCHEMA, "; ".join(found)[:MAX_DETAIL], now)
    if message["device_id"] != device_id:
        return Rejection(topic, RejectReason.DEVICE_MISMATCH, "payload device_id differs from the topic", now)
    return StoredMessage(message["msg_id"], device_id, message["post_id"], kind.suffix, message["seq"],
                         message["boot"], message["time"], topic, json.dumps(message, separators=(",", ":")), now)


def _parse_topic(prefix: str, topic: str) -> tuple[str, MessageKind]:
    root = f"{prefix}/{CONTRACT_MAJOR}/"
    if not topic.startswith(root):
        raise ContractViolation("topic", ["outside the configured prefix"])
    device_id, _, suffix = topic[len(root):].partition("/")
    if suffix.startswith(MessageKind.CMD_RESULT.suffix + "/"):   # a response topic below cmd-result
        suffix = MessageKind.CMD_RESULT.suffix
    return kind_of_topic(f"{root}{device_id}/{suffix}")
