"""Receipts the ingest publishes after its durable commit (schemas/receipt.json).

`{prefix}/v1/{device}/receipt`, QoS 1, never retained, at most 500 msg_ids each. Duplicates are
receipted again: the gate re-sent them because it never saw the first receipt.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Iterable

from ..contract import device_root, problems
from ..envelope import utc_text
from ..link_errors import ContractViolation

RECEIPT_SCHEMA = "receipt/1.0"
MAX_IDS = 500


def receipt_topic_of(prefix: str, device_id: str) -> str:
    return f"{device_root(prefix, device_id)}/receipt"


def receipt_payloads(msg_ids: Iterable[str], *, now: dt.datetime, id_source=uuid.uuid4) -> list[bytes]:
    """One payload per 500 ids (order kept, repeats dropped), each checked against the schema."""
    ids = list(dict.fromkeys(msg_ids))
    payloads = []
    for start in range(0, len(ids), MAX_IDS):
        message = {"schema": RECEIPT_SCHEMA, "receipt_id": str(id_source()), "time": utc_text(now),
                   "msg_ids": ids[start:start + MAX_IDS]}
        found = problems("receipt.json", message)
        if found:
            raise ContractViolation("receipt", found)
        payloads.append(json.dumps(message, separators=(",", ":")).encode())
    return payloads


def group_by_device(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """(device_id, msg_id) pairs -> msg_ids per device."""
    grouped: dict[str, list[str]] = {}
    for device_id, msg_id in pairs:
        grouped.setdefault(device_id, []).append(msg_id)
    return grouped
