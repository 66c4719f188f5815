"""The lane's OutboxPort in a one-stop lane: every write goes to the authority it belongs to.

  * a crossing: to both, each with its own decision (records.py); an authority that already holds
    it (a retry after the other's outbox refused) is skipped, so each stores it once;
  * an alert-list hit alarm: only to the authority (or both) whose lists were hit; a hit that
    cannot be attributed goes to neither and is logged without data (never to the wrong one);
  * every other alarm and exception (doors, tamper, faults, officer calls): to both, the lane is
    shared.
A refusal of either outbox raises, as a single outbox would: the lane goes out of service, and the
runner retries the same write later. An alarm or exception the other outbox already stored is then
not stored there again (PartialWrites): each authority holds each once.
"""
from __future__ import annotations

import collections
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
        self._partial = PartialWrites()

    def crossing(self, record) -> None:
        joint = self._memory.get(record.transaction_id)
        for role, outbox in self._outboxes.items():
            if not outbox.has_crossing(record.transaction_id):
                outbox.crossing(authority_record(record, joint, role, self._agreement,
                                                 self._memory.verdicts(record.transaction_id)))
        self._memory.forget(record.transaction_id)

    def has_crossing(self, txn_id: str) -> bool:
        return all(outbox.has_crossing(txn_id) for outbox in self._outboxes.values())

    def exception(self, kind, txn_id: str | None, detail: str) -> None:
        self._to_each(("exception", kind.value, txn_id, detail), tuple(self._outboxes),
                      lambda outbox: outbox.exception(kind, txn_id, detail))

    def alarm(self, kind, txn_id: str | None, detail: str) -> None:
        self._to_each(("alarm", kind.value, txn_id, detail), self._alarm_roles(kind.value, txn_id),
                      lambda outbox: outbox.alarm(kind, txn_id, detail))

    def _to_each(self, key: tuple, roles: tuple[Role, ...], write) -> None:
        """Every role's outbox, skipping those that stored this write before another refused it."""
        done = self._partial.pop(key, set())
        try:
            for role in roles:
                if role not in done:
                    write(self._outboxes[role])
                    done.add(role)
        finally:
            if not done.issuperset(roles):      # refused: the runner owes the write and retries it as it is
                self._partial.remember(key, done)

    def _alarm_roles(self, kind_value: str, txn_id: str | None) -> tuple[Role, ...]:
        if kind_value not in _ATTRIBUTED_ALARMS:
            return tuple(self._outboxes)
        joint = self._memory.get(txn_id)
        roles = tuple(role for role in self._outboxes if joint is not None and joint.part(role).alert_hits)
        if not roles:
            log.error("alarm %s not attributable to an authority: stored by neither", kind_value)
        return roles


class PartialWrites:
    """Writes one outbox stored and another refused: key -> the roles that hold it (bounded: the
    runner owes a bounded number of writes; the oldest is forgotten first)."""

    def __init__(self, limit: int = 256):
        self._limit = limit
        self._done: collections.OrderedDict[tuple, set[Role]] = collections.OrderedDict()

    def pop(self, key: tuple, default: set[Role]) -> set[Role]:
        return self._done.pop(key, default)

    def remember(self, key: tuple, roles: set[Role]) -> None:
        if roles:
            self._done[key] = roles
            while len(self._done) > self._limit:
                self._done.popitem(last=False)
