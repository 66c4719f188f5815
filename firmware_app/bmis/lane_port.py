"""The lane's OutboxPort (firmware_app/lane/ports.py) on top of the BMIS link.

Every call stores durably before it returns; OutboxFull and other link errors propagate so the
lane runner turns them into a fault (doors secured, out of service). Kinds arrive as the lane's
enums; only their `.value` is used, so the BMIS layer does not import the lane.
"""
from __future__ import annotations

from typing import Any

from .link import BmisLink, Severity

MAX_DETAIL = 512
_CRITICAL = {"emergency", "tamper", "door_forced", "tailgating", "alert_list_hit", "transaction_voided",
             "person_inside", "lane_stalled"}
_INFO = {"not_entered", "assistance_requested", "traveller_lingering", "stale_event"}


def severity_of(kind_value: str) -> Severity:
    if kind_value in _CRITICAL:
        return Severity.CRITICAL
    return Severity.INFO if kind_value in _INFO else Severity.WARNING


class LaneOutbox:
    def __init__(self, link: BmisLink):
        self._link = link

    def crossing(self, record: Any) -> None:
        self._link.record_crossing(record.to_dict())

    def has_crossing(self, txn_id: str) -> bool:
        return self._link.outbox.has_crossing(txn_id)

    def exception(self, kind: Any, txn_id: str | None, detail: str) -> None:
        data = {"kind": kind.value, "severity": severity_of(kind.value).value}
        if txn_id:
            data["transaction_id"] = txn_id
        if detail:
            data["detail"] = detail[:MAX_DETAIL]
        self._link.record_exception(data)

    def alarm(self, kind: Any, txn_id: str | None, detail: str) -> None:
        extra = {"transaction_id": txn_id} if txn_id else {}
        self._link.raise_alarm(kind.value, severity_of(kind.value), detail=detail[:MAX_DETAIL], **extra)
