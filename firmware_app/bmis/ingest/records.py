"""What the ingest stores: accepted rows, rejected messages, and a commit's outcome (plain data)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RejectReason(str, enum.Enum):
    BAD_TOPIC = "bad_topic"              # not {prefix}/v1/{device}/{gate suffix}
    NOT_JSON = "not_json"
    SCHEMA = "schema"                    # fails the kind's JSON Schema
    DEVICE_MISMATCH = "device_mismatch"  # payload device_id differs from the topic's device


# Fields with repr=False hold message bodies (crossings carry personal data): kept out of logs.
@dataclass(frozen=True)
class StoredMessage:
    msg_id: str
    device_id: str                       # from the topic, never from the payload
    post_id: str
    kind: str
    seq: int
    boot: int
    time: str
    topic: str
    body: str = field(repr=False)        # the whole envelope as JSON text
    stored_at: float = 0.0               # epoch seconds when this worker committed it


@dataclass(frozen=True)
class Rejection:
    topic: str
    reason: RejectReason
    detail: str                          # schema problems name places and rules, never values
    stored_at: float


@dataclass(frozen=True)
class Batch:
    accepted: list[StoredMessage]
    rejected: list[Rejection]


@dataclass(frozen=True)
class CommitResult:
    inserted: frozenset[str]             # msg_ids new to the database
    duplicates: int                      # accepted rows whose msg_id was already stored


@dataclass(frozen=True)
class StoreCounts:
    messages: int
    duplicates: int
    rejected: int
