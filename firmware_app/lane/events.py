"""Events into the lane state machine. Immutable; stage results carry their transaction id so a
late answer from an abandoned transaction is recognised and dropped."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.gate.layout import Door
from firmware_app.mrz import MrzResult
from firmware_app.policy import ChipEvidence, Decision, FaceEvidence, LaneMode

from .state import Fault, TimerKind


class Stage(str, enum.Enum):
    CHIP = "chip"
    FACE = "face"
    DECISION = "decision"


@dataclass(frozen=True)
class DocumentPresented:
    mrz: MrzResult


@dataclass(frozen=True)
class DocumentUnreadable:
    detail: str = ""


@dataclass(frozen=True)
class DocumentRemoved:
    pass


@dataclass(frozen=True)
class ChipResult:
    txn_id: str
    evidence: ChipEvidence


@dataclass(frozen=True)
class FaceFeedback:
    txn_id: str
    instruction: str | None     # a kiosk Instruction key ("come_closer", ...)


@dataclass(frozen=True)
class FaceResult:
    txn_id: str
    evidence: FaceEvidence


@dataclass(frozen=True)
class StageFailed:
    txn_id: str
    stage: Stage
    reason: str                 # error class name or reason code, never personal data


@dataclass(frozen=True)
class DecisionMade:
    txn_id: str
    decision: Decision


class OfficerVerdict(str, enum.Enum):
    """What an officer reviewing an assisted-mode traveller answers (officer console)."""
    ACCEPT = "accept"       # confirm the lane's decision: a PASS goes through (never upgrades a refer)
    REFER = "refer"         # send the traveller to the officer desk
    REJECT = "reject"       # refuse at the gate (needs an identified officer)


@dataclass(frozen=True)
class OfficerDecision:
    txn_id: str
    verdict: OfficerVerdict
    officer_id: str = ""


@dataclass(frozen=True)
class Timeout:
    kind: TimerKind
    token: int


@dataclass(frozen=True)
class DoorOpened:
    door: Door


@dataclass(frozen=True)
class DoorClosed:
    door: Door


@dataclass(frozen=True)
class PresenceChanged:
    count: int


@dataclass(frozen=True)
class EmergencyOn:
    pass


@dataclass(frozen=True)
class EmergencyOff:
    pass


@dataclass(frozen=True)
class TamperOn:
    pass


@dataclass(frozen=True)
class TamperOff:
    pass


@dataclass(frozen=True)
class DeviceFault:
    fault: Fault
    detail: str = ""


@dataclass(frozen=True)
class DeviceRestored:
    fault: Fault


@dataclass(frozen=True)
class ModeChanged:
    mode: LaneMode


@dataclass(frozen=True)
class AssistanceRequested:
    pass


@dataclass(frozen=True)
class AssistanceAnswered:
    """An officer attended the traveller who pressed the assistance button (clears the screen flag)."""
    officer_id: str = ""


class OverrideAction(str, enum.Enum):
    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True)
class OfficerOverride:
    """A remote officer opens or closes a door (the BMIS `override` command, verified and audited
    there). `door` None means every door of the layout. Answered by an OverrideAnswered action."""
    door: Door | None
    action: OverrideAction
    operator_id: str
    command_id: str


@dataclass(frozen=True)
class MoreTimeRequested:
    """The traveller asked for more time on the kiosk (accessibility)."""


Event = (DocumentPresented | DocumentUnreadable | DocumentRemoved | ChipResult | FaceFeedback | FaceResult
         | StageFailed | DecisionMade | OfficerDecision | Timeout | DoorOpened | DoorClosed | PresenceChanged
         | EmergencyOn | EmergencyOff | TamperOn | TamperOff | DeviceFault | DeviceRestored | ModeChanged
         | AssistanceRequested | AssistanceAnswered | MoreTimeRequested | OfficerOverride)

# The events that name their transaction: one for a transaction that has ended is dropped.
TRANSACTION_EVENTS = (ChipResult, FaceFeedback, FaceResult, StageFailed, DecisionMade, OfficerDecision)
