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

from firmware_app.lane.record import CrossingRecord, DocumentFields
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
                     agreement: Agreement) -> AuthorityRecord:
    document = record.document
    if document is not None:
        withheld: dict[str, Any] = dict.fromkeys(agreement.withheld(), "")
        document = dataclasses.replace(document, **withheld)
    # each authority records its own direction: the exit country an exit, the entry country an entry
    chip = record.chip.for_authority(role.value) if record.chip is not None else None   # its own PA result
    own = dataclasses.replace(record, decision=own_decision(joint, role, record.decision), document=document,
                              direction=role.value, chip=chip)
    return AuthorityRecord(own, role, agreement, record.document)
