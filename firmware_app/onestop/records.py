"""One authority's crossing record of a one-stop crossing.

The lane's record carries both authorities' findings; each authority gets a copy with only its
own decision (findings and alert hits, plus what the lane itself added) and only the document
fields the bilateral agreement shares. The others are withheld (empty), and the record says which,
in its `onestop` member (events/crossing schema 1.x, optional).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from firmware_app.lane.events import OfficerVerdict
from firmware_app.lane.record import CrossingRecord, DocumentFields
from firmware_app.policy import Decision, Finding, Outcome, ReasonCode
from firmware_app.policy.onestop import JointDecision, Role, own_decision

DOCUMENT_FIELDS = tuple(f.name for f in dataclasses.fields(DocumentFields) if f.name != "mrz_valid")


STATISTICS_FIELDS = ("sex", "date_of_birth", "nationality")     # what the hourly statistics disaggregate by


@dataclass(frozen=True)
class Agreement:
    """The bilateral agreement as the records need it."""
    shared_fields: frozenset[str]
    countries: dict        # Role -> ICAO code of that authority's state
    count_own_control: bool = True      # [onestop] statistics = "own_control"

    def withheld(self) -> tuple[str, ...]:
        return tuple(name for name in DOCUMENT_FIELDS if name not in self.shared_fields)


@dataclass(frozen=True)
class AuthorityRecord:
    """What one authority's outbox stores: `to_dict()` as a CrossingRecord's, plus `onestop`."""
    record: CrossingRecord
    role: Role
    agreement: Agreement
    read: DocumentFields | None = field(default=None, repr=False)    # as the lane read it: statistics only

    @property
    def transaction_id(self) -> str:
        return self.record.transaction_id

    def __repr__(self) -> str:
        return f"AuthorityRecord({self.role.value}, {self.record!r})"

    def to_dict(self) -> dict:
        data = self.record.to_dict()
        partner = Role.ENTRY if self.role is Role.EXIT else Role.EXIT
        data["onestop"] = {"role": self.role.value, "country": self.agreement.countries[self.role],
                           "partner_country": self.agreement.countries[partner],
                           "shared_fields": sorted(self.agreement.shared_fields),
                           "withheld_fields": list(self.agreement.withheld())}
        return data


    def statistics_dict(self) -> dict:
        """What this authority's statistics count: its record, and with `count_own_control` the
        statistics' dimensions of the document its own control read. Never stored or sent."""
        data = self.to_dict()
        if self.agreement.count_own_control and self.read is not None and data["document"] is not None:
            read = self.read.to_dict()
            data["document"] = data["document"] | {name: read[name] for name in STATISTICS_FIELDS}
        return data


def authority_record(record: CrossingRecord, joint: JointDecision | None, role: Role,
                     agreement: Agreement, verdicts: dict | None = None) -> AuthorityRecord:
    """`verdicts`: Role -> Verdict of each authority asked to review (onestop/reviews.py)."""
    document = record.document
    if document is not None:
        withheld: dict[str, Any] = dict.fromkeys(agreement.withheld(), "")
        document = dataclasses.replace(document, **withheld)
    mine = (verdicts or {}).get(role)
    decision = _with_own_officer(own_decision(joint, role, _without_officers(record.decision)), mine,
                                 record.decision)
    # each authority records its own direction: the exit country an exit, the entry country an entry
    chip = record.chip.for_authority(role.value) if record.chip is not None else None   # its own PA result
    own = dataclasses.replace(record, decision=decision, document=document, direction=role.value, chip=chip,
                              officer_id=(mine.officer or None) if mine else None,
                              officer_decision=mine.verdict.value if mine and mine.verdict else None)
    return AuthorityRecord(own, role, agreement, record.document)


# The lane's officer findings speak for the reviewers together; each record gets its own officer's.
_OFFICER_CODES = frozenset({ReasonCode.OFFICER_REFUSED, ReasonCode.OFFICER_REJECTED, ReasonCode.OFFICER_NO_ANSWER,
                            ReasonCode.OFFICER_UNIDENTIFIED, ReasonCode.OFFICER_CLEARED})
_OWN_FINDING = {OfficerVerdict.REFER: Finding(ReasonCode.OFFICER_REFUSED, Outcome.REFER),
                OfficerVerdict.REJECT: Finding(ReasonCode.OFFICER_REJECTED, Outcome.REJECT)}


def _without_officers(decision: Decision | None) -> Decision | None:
    if decision is None:
        return None
    return Decision(decision.outcome, tuple(f for f in decision.findings if f.code not in _OFFICER_CODES),
                    decision.alert_hits)


def _with_own_officer(own: Decision | None, mine, lane: Decision | None) -> Decision | None:
    if own is None or lane is None or mine is None:
        return own
    if mine.verdict is None:        # asked, did not answer (or another's answer came first)
        if ReasonCode.OFFICER_NO_ANSWER not in lane.reasons:
            return own
        finding = Finding(ReasonCode.OFFICER_NO_ANSWER, Outcome.REFER)
    elif mine.verdict is OfficerVerdict.ACCEPT:
        if own.passed:
            return own
        outcome = Outcome.PASS if lane.passed else own.outcome      # cleared; the lane may still refer
        return Decision(outcome, own.findings + (Finding(ReasonCode.OFFICER_CLEARED, Outcome.PASS),),
                        own.alert_hits)
    else:
        finding = _OWN_FINDING[mine.verdict]
    return Decision(max(own.outcome, finding.outcome, key=lambda o: o.severity), own.findings + (finding,),
                    own.alert_hits)
