"""Actions out of the lane state machine; the runner executes them against the ports."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from drivers.gate.layout import Door
from firmware_app.kiosk.view import KioskView
from firmware_app.mrz import MrzResult
from firmware_app.policy import Decision, Evidence, LaneMode

from .record import CrossingRecord
from .state import TimerKind


class AlarmKind(str, enum.Enum):
    """Goes to the officer's console and the BMIS `alarms` topic."""
    EMERGENCY = "emergency"
    TAMPER = "tamper"
    DOOR_FORCED = "door_forced"
    DOOR_HELD_OPEN = "door_held_open"
    TAILGATING = "tailgating"
    ALERT_LIST_HIT = "alert_list_hit"
    TRAVELLER_LINGERING = "traveller_lingering"
    DEVICE_FAULT = "device_fault"
    ASSISTANCE_REQUESTED = "assistance_requested"
    PERSON_INSIDE = "person_inside"     # entry released so somebody inside can step back out
    LANE_STALLED = "lane_stalled"       # the runner's watchdog found the lane loop stuck
    PRESENTATION_ATTACK = "presentation_attack_suspected"   # PAD: a print, screen or mask suspected


class ExceptionKind(str, enum.Enum):
    """Goes to the BMIS `events/exception` topic."""
    STAGE_TIMEOUT = "stage_timeout"
    STAGE_FAILED = "stage_failed"
    DOOR_FORCED = "door_forced"
    DOOR_HELD_OPEN = "door_held_open"
    TAILGATING = "tailgating"
    NOT_ENTERED = "not_entered"
    TRANSACTION_VOIDED = "transaction_voided"
    EMERGENCY = "emergency"
    TAMPER = "tamper"
    DEVICE_FAULT = "device_fault"
    STALE_EVENT = "stale_event"
    RETREAT = "retreat"
    ASSISTANCE_REQUESTED = "assistance_requested"
    OFFICER_DECISION = "officer_decision"   # audit of each officer confirmation / refusal
    OFFICER_OVERRIDE = "officer_override"   # audit of each remote door override (done, refused, ended)


class OverrideRefusal(str, enum.Enum):
    """Why the lane refused an officer override (the BMIS gets it in the command's nack)."""
    EMERGENCY = "emergency"                     # the emergency input holds every door released
    PASSAGE_IN_PROGRESS = "passage_in_progress"  # a traveller is in a PASS passage
    PERSON_INSIDE = "person_inside"             # the entry is released for somebody to step back out
    LANE_FAULTED = "lane_faulted"               # a fault keeps the doors secured
    NO_SUCH_DOOR = "no_such_door"               # e.g. the exit of a single-barrier lane


@dataclass(frozen=True)
class OpenDoor:
    door: Door
    passage: str | None = field(default=None, compare=False)    # the transaction, in a PASS passage


@dataclass(frozen=True)
class CloseDoor:
    door: Door


@dataclass(frozen=True)
class SecureDoors:
    """Close and lock every door (the runner also does this first on start)."""


@dataclass(frozen=True)
class ReleaseDoors:
    """Emergency: release every door at once."""


@dataclass(frozen=True)
class StartChipRead:
    txn_id: str
    mrz: MrzResult


@dataclass(frozen=True)
class StartFaceCapture:
    txn_id: str
    round: int


@dataclass(frozen=True)
class CancelStages:
    txn_id: str


@dataclass(frozen=True)
class RequestDecision:
    txn_id: str
    evidence: Evidence
    mode: LaneMode
    people_in_lane: int


@dataclass(frozen=True)
class RequestOfficerReview:
    txn_id: str
    decision: Decision
    evidence: Evidence | None = None    # what the officer console shows next to the decision


@dataclass(frozen=True)
class ShowScreen:
    view: KioskView


@dataclass(frozen=True)
class StartTimer:
    kind: TimerKind
    seconds: float
    token: int


@dataclass(frozen=True)
class CancelTimer:
    kind: TimerKind


@dataclass(frozen=True)
class RaiseAlarm:
    kind: AlarmKind
    txn_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class RecordException:
    kind: ExceptionKind
    txn_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class JournalBegin:
    txn_id: str
    started_at: datetime


@dataclass(frozen=True)
class EndTransaction:
    """Journal the end and discard the transaction's biometric data."""
    txn_id: str
    outcome: str = "ended"


@dataclass(frozen=True)
class RecordCrossing:
    record: CrossingRecord


@dataclass(frozen=True)
class OverrideAnswered:
    """The lane's answer to an OfficerOverride (the runner hands it back to the waiting command)."""
    command_id: str
    accepted: bool
    refusal: OverrideRefusal | None = None


Action = (OpenDoor | CloseDoor | SecureDoors | ReleaseDoors | StartChipRead | StartFaceCapture | CancelStages
          | RequestDecision | RequestOfficerReview | ShowScreen | StartTimer | CancelTimer | RaiseAlarm
          | RecordException | JournalBegin | EndTransaction | RecordCrossing | OverrideAnswered)
