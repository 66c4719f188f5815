"""The values the outbox takes and hands out: its bounds (OutboxLimits), a message read back for
publishing (PendingMessage, from its `pending` row) and its counts (OutboxCounts). queue.py owns
the store itself."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..contract import MessageKind

_KIND_BY_NAME = {kind.name: kind for kind in MessageKind}


@dataclass(frozen=True)
class OutboxLimits:
    max_messages: int = 100_000
    max_bytes: int = 256 * 1024 * 1024
    max_age_s: float = 7 * 24 * 3600.0
    reserve_messages: int = 1_000      # above the bound, for status/alarms/command results only
    sent_log_keep: int = 100_000       # msg_ids of acknowledged messages kept for audit
    dead_letter_keep: int = 1_000      # refused messages kept for an operator (the oldest go first) ...
    dead_letter_max_bytes: int = 16 * 1024 * 1024   # ... and at most this much of their payloads
    min_free_bytes: int = 64 * 1024 * 1024   # events refused below this free space (+ WAL room), storage.py
    reserve_bytes: int = 1024 * 1024         # given up when the disk is full, for status, alarms and acks
    receipt_timeout_s: float | None = 300.0   # None: a PUBACK is enough (a BMIS that sends no receipts)


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True)
class PendingMessage:
    msg_id: str
    kind: MessageKind
    seq: int
    topic: str
    payload: bytes = field(repr=False)
    retain: bool
    correlation: bytes | None
    priority: int


@dataclass(frozen=True)
class OutboxCounts:
    pending: int                       # not acknowledged by the broker yet
    pending_bytes: int                 # of every record kept (pending and unreceipted)
    dead_letters: int
    oldest_pending_age_s: float        # oldest record kept, by its creation time
    unreceipted: int = 0               # PUBACKed, waiting for the BMIS's receipt
    oldest_unreceipted_age_s: float = 0.0


def pending_from_row(row) -> PendingMessage:
    return PendingMessage(row[0], _KIND_BY_NAME[row[1]], row[2], row[3], bytes(row[4]), bool(row[5]),
                          None if row[6] is None else bytes(row[6]), row[7])
