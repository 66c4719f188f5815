"""Both authorities decide on the same evidence; the lane gets the joint decision.

The decider runs on the lane's decision worker; the outbox (loop thread) later asks which joint
decision belongs to a transaction, to give each authority only its own part.
"""
from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from firmware_app.lane.events import OfficerVerdict
from firmware_app.policy import AlertListChecker, Decision, PolicyContext
from firmware_app.policy.onestop import AuthorityRules, JointDecision, Role, decide_for

MAX_REMEMBERED = 64     # a lane decides one traveller at a time; this bounds memory if records never come


@dataclass(frozen=True)
class Verdict:
    """One authority officer's answer to a review (empty while nobody answered)."""
    officer: str = ""
    verdict: OfficerVerdict | None = None


class JointDecisions:
    """Transaction id -> the joint decision made for it (and its officers' answers), until its
    record is stored."""

    def __init__(self, limit: int = MAX_REMEMBERED):
        self._limit = limit
        self._joint: collections.OrderedDict[str, JointDecision] = collections.OrderedDict()
        self._verdicts: dict[str, dict[Role, Verdict]] = {}
        self._lock = threading.Lock()

    def remember(self, txn_id: str, joint: JointDecision) -> None:
        with self._lock:
            self._joint[txn_id] = joint
            self._joint.move_to_end(txn_id)
            while len(self._joint) > self._limit:
                self._joint.popitem(last=False)

    def get(self, txn_id: str | None) -> JointDecision | None:
        with self._lock:
            return self._joint.get(txn_id) if txn_id else None

    def forget(self, txn_id: str) -> None:
        with self._lock:
            self._joint.pop(txn_id, None)
            self._verdicts.pop(txn_id, None)

    # --- the officers' part (onestop/reviews.py): who reviewed, and each one's own answer ---------
    def reviewing(self, txn_id: str, roles: tuple[Role, ...]) -> None:
        with self._lock:
            self._verdicts[txn_id] = {role: Verdict() for role in roles}
            while len(self._verdicts) > self._limit:
                self._verdicts.pop(next(iter(self._verdicts)))

    def answered(self, txn_id: str, role: Role, officer: str, verdict: OfficerVerdict) -> None:
        with self._lock:
            if role in self._verdicts.get(txn_id, {}):
                self._verdicts[txn_id][role] = Verdict(officer, verdict)

    def verdicts(self, txn_id: str | None) -> dict[Role, Verdict]:
        """Role -> its officer's answer, for each authority asked to review (empty: no review)."""
        with self._lock:
            return dict(self._verdicts.get(txn_id, {})) if txn_id else {}


@dataclass(frozen=True)
class AuthorityDecider:
    """One authority's rules, its own alert lists and whether its own BMIS link is up."""
    rules: AuthorityRules
    alerts: AlertListChecker
    reachable: Callable[[], bool]


class OnestopDecider:
    """The lane's Decider (lane/ports.py) for a one-stop lane."""

    def __init__(self, exit_side: AuthorityDecider, entry_side: AuthorityDecider, memory: JointDecisions,
                 today: Callable[[], date], clock_synchronised: Callable[[], bool], pad_required: bool = False):
        self._sides = {Role.EXIT: exit_side, Role.ENTRY: entry_side}
        self._memory, self._today, self._synchronised = memory, today, clock_synchronised
        self._pad_required = pad_required

    @property
    def memory(self) -> JointDecisions:
        return self._memory

    def __call__(self, request) -> Decision:
        context = PolicyContext(today=self._today(), mode=request.mode, people_in_lane=request.people_in_lane,
                                pad_required=self._pad_required, clock_synchronised=self._synchronised())
        exit_, entry = (self._decide(self._sides[role], request.evidence, context) for role in (Role.EXIT, Role.ENTRY))
        joint = JointDecision(exit_, entry)
        self._memory.remember(request.txn_id, joint)
        return joint.lane_decision()

    @staticmethod
    def _decide(side: AuthorityDecider, evidence, context: PolicyContext) -> Decision:
        own = own_evidence(evidence, side.rules.role)      # its own trust store's view of the chip
        return decide_for(side.rules, own, replace(context, bmis_reachable=side.reachable()), side.alerts)


def own_evidence(evidence, role: Role):
    """The evidence with the chip judged by this authority's own trust store (when it has one)."""
    if evidence.chip is None:
        return evidence
    return replace(evidence, chip=evidence.chip.for_authority(role.value))
