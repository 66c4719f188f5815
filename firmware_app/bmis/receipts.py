"""Receipts: the BMIS's end-to-end acknowledgement of the gate messages it has durably stored.

A PUBACK only says the broker took a message; a broker that dies before delivering it loses it.
The BMIS therefore publishes, after its own commit, `{prefix}/v1/{device}/receipt` (schemas/
receipt.json: up to 500 msg_ids). The gate parses a receipt here (bounded in size before any
parsing, then checked against the schema) and the outbox forgets what it names; the reference
consumer builds them with `build_receipt`.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Iterable

from .contract import problems
from .envelope import decode, utc_text
from .link_errors import ContractViolation

RECEIPT_SCHEMA = "receipt/1.0"
MAX_RECEIPT_IDS = 500
MAX_RECEIPT_BYTES = 64 * 1024     # 500 ids take ~20 KiB: a larger payload is refused unparsed


def parse_receipt(payload: bytes) -> list[str]:
    """The msg_ids a receipt names; ContractViolation for anything that is not a valid receipt."""
    if len(payload) > MAX_RECEIPT_BYTES:
        raise ContractViolation("receipt", [f"{len(payload)} bytes is too large"])
    message = decode(payload)
    found = problems("receipt.json", message)
    if found:
        raise ContractViolation("receipt", found)
    return list(message["msg_ids"])


def build_receipt(msg_ids: Iterable[str], *, receipt_id: uuid.UUID, now: dt.datetime) -> bytes:
    """One receipt payload (at most MAX_RECEIPT_IDS ids; split larger sets with `chunks`)."""
    ids = list(dict.fromkeys(msg_ids))
    if not 1 <= len(ids) <= MAX_RECEIPT_IDS:
        raise ContractViolation("receipt", [f"{len(ids)} msg_ids (1..{MAX_RECEIPT_IDS} allowed)"])
    message = {"schema": RECEIPT_SCHEMA, "receipt_id": str(receipt_id), "time": utc_text(now), "msg_ids": ids}
    found = problems("receipt.json", message)
    if found:
        raise ContractViolation("receipt", found)
    return json.dumps(message, separators=(",", ":")).encode()


def chunks(msg_ids: list[str], size: int = MAX_RECEIPT_IDS) -> list[list[str]]:
    return [msg_ids[i:i + size] for i in range(0, len(msg_ids), size)]
