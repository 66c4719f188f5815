"""Receipts the ingest publishes after its durable commit (schemas/receipt.json, built by
`bmis/contract.py`): `{prefix}/v1/{device}/receipt`, QoS 1, never retained, at most 500 msg_ids each.
Duplicates are receipted again: the gate re-sent them because it never saw the first receipt.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable

from ..contract import build_receipt, chunks, receipt_topic


def receipts_by_device(pairs: Iterable[tuple[str, str]], prefix: str, *, now: dt.datetime,
                       id_source: Callable[[], uuid.UUID] = uuid.uuid4) -> list[tuple[str, bytes]]:
    """(device_id, msg_id) pairs -> (receipt topic, payload) per device and per 500 ids."""
    grouped: dict[str, list[str]] = {}
    for device_id, msg_id in pairs:
        grouped.setdefault(device_id, []).append(msg_id)
    return [(receipt_topic(prefix, device_id), build_receipt(part, receipt_id=id_source(), now=now))
            for device_id, msg_ids in grouped.items() for part in chunks(list(dict.fromkeys(msg_ids)))]
