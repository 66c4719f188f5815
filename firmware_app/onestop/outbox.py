"""The lane's OutboxPort in a one-stop lane: every write goes to the authority it belongs to.

  * a crossing: to both, each with its own decision (records.py); an authority that already holds
    it (a retry after the other's outbox refused) is skipped, so each stores it once;
  * an alert-list hit alarm: only to the authority (or both) whose lists were hit; a hit that
    cannot be attributed goes to neither and is logged without data (never to the wrong one);
  * every other alarm and exception (doors, tamper, faults, officer calls): to both, the lane is
    shared.
A refusal of either outbox raises, as a single outbox would: the lane goes out of service.
"""
from __future__ import annotations

import logging

from firmware_app.policy.onestop import Role

from .decider import JointDecisions
from .records import Agreement, authority_record

log = logging.getLogger("gate.onestop")
_ATTRIBUTED_ALARMS = frozenset({"alert_list_hit"})


class SovereignOutbox:
    def __init__(self, outboxes: dict, memory: JointDecisions, agreement: Agreement):
        """`outboxes`: Role -> that authority's OutboxPort (its own SQLite outbox and link)."""
        self._outboxes, self._memory, self._agreement = dict(outboxes), memory, agreement

    def crossing(self, record) -> None:
        joint = self._memory.get(record.transaction_id)
        for role, outbox in self._outboxes.items():
            if not outbox.has_crossing(record.transaction_id):
                outbox.crossing(authority_record(record, joint, role, self._agreement))
        self._memory.forget(record.transaction_id)

    def has_crossing(self, txn_id: str) -> bool:
        return all(outbox.has_crossing(txn_id) for outbox in self._outboxes.values())

    def exception(self, kind, txn_id: str | None, detail: str) -> None:
        for outbox in self._outboxes.values():
            outbox.exception(kind, txn_id, detail)

    def alarm(self, kind, txn_id: str | None, detail: str) -> None:
        for role in self._alarm_roles(kind.value, txn_id):
            self._outboxes[role].alarm(kind, txn_id, detail)

    def _alarm_roles(self, kind_value: str, txn_id: str | None) -> tuple[Role, ...]:
        if kind_value not in _ATTRIBUTED_ALARMS:
            return tuple(self._outboxes)
        joint = self._memory.get(txn_id)
        roles = tuple(role for role in self._outboxes if joint is not None and joint.part(role).alert_hits)
        if not roles:
            log.error("alarm %s not attributable to an authority: stored by neither", kind_value)
        return roles
