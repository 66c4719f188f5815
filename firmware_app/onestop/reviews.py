"""The officers of a one-stop lane: each authority's own review desk sees only its own part of a case.

    reviews = OnestopReviews(memory, assisted=lambda role: ..., submit=runner.submit)
    reviews.add_desk(Role.EXIT, exit_desk)     # an officer.ReviewDesk whose submit is reviews.answer(EXIT, ...)
    LanePorts(officer=reviews, biometrics=BiometricStores(vault, reviews))

The lane asks for a review when a NORMAL-mode traveller is referred (LaneSettings.referral_review)
and for every ASSISTED-mode traveller. Who reviews: each authority whose own decision did not pass,
plus, in ASSISTED mode, each authority whose own mode is ASSISTED. A reviewer's desk gets that
authority's OWN decision (its findings and alert hits, never the other's) and the shared evidence;
an authority that passed the traveller is not asked and its desk never sees the case. The chip's
passive authentication is shown as that authority's own trust store judged it.

The lane hears one answer: the first REFER or REJECT of any reviewer at once (the other desks are
withdrawn), or ACCEPT once every reviewer accepted. An ACCEPT from an authority whose own decision
is REJECT counts as REFER (the gate never clears a reject). The lane's answer names the reviewing
roles ("exit", "entry+exit"), not the officers: each officer's id and verdict stay in their own
desk's audit and, through JointDecisions, in their own authority's crossing record only.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from firmware_app.lane.events import OfficerDecision, OfficerVerdict
from firmware_app.policy import Decision, Evidence, Outcome
from firmware_app.policy.onestop import Role

from .decider import JointDecisions

log = logging.getLogger("gate.onestop")


class Desk(Protocol):
    """One authority's review desk (officer/review.py: ReviewDesk)."""
    def request_review(self, txn_id: str, decision: Decision, evidence: Evidence | None = None, *,
                       clearable: bool = False) -> None: ...

    def discard(self, txn_id: str) -> None: ...


class OnestopReviews:
    """The lane's OfficerPort (and a BiometricStore: `discard`) over the authorities' desks."""

    def __init__(self, memory: JointDecisions, assisted: Callable[[Role], bool],
                 submit: Callable[[OfficerDecision], None]):
        self._memory, self._assisted, self._submit = memory, assisted, submit
        self._desks: dict[Role, Desk] = {}
        self._lock = threading.Lock()
        self._open: dict[str, dict[Role, Decision]] = {}       # txn -> reviewer -> its own decision

    def add_desk(self, role: Role, desk: Desk) -> None:
        self._desks[role] = desk

    # --- the lane's side ------------------------------------------------------------------
    def request_review(self, txn_id: str, decision: Decision, evidence: Evidence | None = None) -> None:
        joint = self._memory.get(txn_id)
        if joint is None:           # not attributable: nobody may see it; the lane refers at once
            log.error("officer review of %s not attributable to an authority: referred", txn_id)
            self._submit(OfficerDecision(txn_id, OfficerVerdict.REFER, ""))
            return
        own = {role: joint.part(role) for role in Role if not joint.part(role).passed or self._assisted(role)}
        if not own:     # the modes changed since the traveller began: the lane asked, so both review
            own = {role: joint.part(role) for role in Role}
        with self._lock:
            self._open = {txn_id: own}          # one traveller at a time: an older case is over
        self._memory.reviewing(txn_id, tuple(own))
        for role, part in own.items():
            desk = self._desks.get(role)
            if desk is None:
                log.warning("%s authority has no officer console: its review times out", role.value)
                continue
            desk.request_review(txn_id, part, own_evidence(evidence, role), clearable=part.outcome is Outcome.REFER)

    def discard(self, txn_id: str) -> None:
        with self._lock:
            self._open.pop(txn_id, None)
        for desk in self._desks.values():
            desk.discard(txn_id)

    # --- each desk's answer -------------------------------------------------------------------
    def answer(self, role: Role, decision: OfficerDecision) -> None:
        """A desk's submit: the officer's answer is already in that authority's audit."""
        verdict = OfficerVerdict(decision.verdict)
        with self._lock:
            own = self._open.get(decision.txn_id, {})
            if role not in own:
                log.warning("%s officer answered a case not theirs or over: dropped", role.value)
                return
            if verdict is OfficerVerdict.ACCEPT and own[role].outcome is Outcome.REJECT:
                verdict = OfficerVerdict.REFER
            self._memory.answered(decision.txn_id, role, decision.officer_id, verdict)
            final = self._final(decision.txn_id, verdict)
        if final is not None:
            self._withdraw(decision.txn_id, role)
            self._submit(final)

    def _final(self, txn_id: str, verdict: OfficerVerdict) -> OfficerDecision | None:
        """Under the lock: the lane's answer once it is known (and the case closed), else None."""
        reviewers = tuple(self._open[txn_id])
        answers = self._memory.verdicts(txn_id)
        if verdict is OfficerVerdict.ACCEPT and any(answers[r].verdict is None for r in reviewers):
            return None
        del self._open[txn_id]
        answered = "+".join(sorted(r.value for r in reviewers if answers[r].verdict is not None))
        return OfficerDecision(txn_id, verdict, answered)

    def _withdraw(self, txn_id: str, answered: Role) -> None:
        for role, desk in self._desks.items():
            if role is not answered:
                desk.discard(txn_id)


def own_evidence(evidence: Evidence | None, role: Role) -> Evidence | None:
    """The evidence as this authority's own trust store judged the chip (never the other's view)."""
    if evidence is None:
        return None
    return dataclasses.replace(evidence, chip=evidence.chip.for_authority(role.value))
