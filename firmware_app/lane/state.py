"""The lane's state as immutable data: the state enum, the running transaction, doors, faults."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from drivers.gate.layout import Door, FailMode, LayoutKind, doors_of
from firmware_app.kiosk.view import KioskView
from firmware_app.mrz import MrzResult
from firmware_app.policy import ChipEvidence, Decision, FaceEvidence, LaneMode


class State(str, enum.Enum):
    IDLE = "idle"                       # waiting for a document
    DOCUMENT = "document"               # a document is on the reader but its MRZ is not usable yet
    CHIP = "chip"                       # reading and checking the chip
    FACE = "face"                       # capturing and matching the face
    DECIDE = "decide"                   # the policy is deciding (alert lists are I/O)
    OFFICER_REVIEW = "officer_review"   # assisted mode: an officer confirms the decision
    PASSAGE = "passage"                 # a door is open for the PASS-decided traveller
    CLOSING = "closing"                 # a door was commanded shut; waiting for its sensor
    REFER = "refer"                     # "please see an officer"; waiting for the document to go
    OUT_OF_SERVICE = "out_of_service"   # a fault, tamper or forced door: doors secured
    CLOSED = "closed"                   # lane mode closed
    EMERGENCY = "emergency"             # emergency input: all doors released


class TimerKind(str, enum.Enum):
    DOCUMENT = "document"
    CHIP = "chip"
    FACE = "face"
    DECISION = "decision"
    OFFICER = "officer"
    ENTER = "enter"             # the traveller should step in
    EXIT = "exit"               # the traveller should leave through the exit
    TAILGATE = "tailgate"       # a second person should step back
    REFER = "refer"
    HELD_OPEN_ENTRY = "held_open_entry"
    HELD_OPEN_EXIT = "held_open_exit"
    RETREAT = "retreat"         # entry released for somebody inside to step back out
    OVERRIDE = "override"       # an officer override holds doors open; auto-secured when it expires


HELD_OPEN_TIMER = {Door.ENTRY: TimerKind.HELD_OPEN_ENTRY, Door.EXIT: TimerKind.HELD_OPEN_EXIT}


class Fault(str, enum.Enum):
    TAMPER = "tamper"
    DOOR_FORCED = "door_forced"
    GATE_DRIVER = "gate_driver"
    READER = "reader"
    CHIP_READER = "chip_reader"
    CAMERA = "camera"
    JOURNAL = "journal"
    DECIDER = "decider"         # the policy / alert-list stage hung
    LANE_LOOP = "lane_loop"     # the lane's own event loop stalled (found by the runner's watchdog)
    KIOSK = "kiosk"             # no traveller screen (cannot be built or cannot listen)
    FACE_MODELS = "face_models"  # face models missing, corrupt or failing to load
    TRUST_STORE = "trust_store"  # the CSCA store for passive authentication is unusable
    OUTBOX = "outbox"           # the BMIS outbox cannot store a record (the system of record)
    BMIS_LINK = "bmis_link"     # the BMIS side (link, command journal, alert store) cannot be built


class Phase(str, enum.Enum):
    """Where the PASS-decided traveller is in the passage."""
    ENTERING = "entering"           # entry open, waiting for the traveller inside
    ENTRY_CLOSING = "entry_closing"  # one person inside, entry closing behind them (mantrap)
    EXITING = "exiting"             # exit open (mantrap) / barrier open with the traveller in it
    EXIT_CLOSING = "exit_closing"   # the traveller left; the last door is closing
    TAILGATE_HOLD = "tailgate_hold"  # more than one person: exit shut, entry open to step back
    ABORT_CLOSING = "abort_closing"  # no passage after all; closing the entry


class CrossingOutcome(str, enum.Enum):
    PASSED = "passed"               # one person crossed, confirmed by the sensors
    REFERRED = "referred"
    REJECTED = "rejected"
    NOT_ENTERED = "not_entered"     # PASS, but the traveller never walked through
    TAILGATING = "tailgating"
    ABANDONED = "abandoned"         # document removed before the decision
    VOIDED = "voided"               # emergency, fault, tamper, restart


@dataclass(frozen=True)
class LaneTimeouts:
    document_s: float = 10.0
    chip_s: float = 15.0
    face_s: float = 12.0
    decision_s: float = 5.0
    officer_s: float = 60.0
    enter_s: float = 15.0
    exit_s: float = 20.0
    tailgate_s: float = 20.0
    refer_s: float = 30.0
    held_open_s: float = 8.0
    retreat_s: float = 20.0     # entry released after a fault before it closes again with nobody inside
    override_hold_s: float = 60.0   # doors opened by an officer override are secured again after this


@dataclass(frozen=True)
class LaneSettings:
    device_id: str = "gate"
    boot_id: str = "boot"           # unique per start; transaction ids derive from it
    direction: str = "entry"
    layout: LayoutKind = LayoutKind.MANTRAP
    timeouts: LaneTimeouts = LaneTimeouts()
    document_attempts: int = 3      # unusable MRZ reads before referring
    face_rounds: int = 2            # capture loops (each with its own attempts) before deciding
    more_time_limit: int = 2        # kiosk "more time" presses honoured per wait
    fail_modes: tuple[tuple[Door, FailMode], ...] = ()   # per door, for the officer's alarm text
    # one-stop lane: a referral goes to the referring authority's officer, whose identified ACCEPT
    # may clear it (never a REJECT finding); the single-authority lane refers without review
    referral_review: bool = False

    @property
    def doors(self) -> tuple[Door, ...]:
        return doors_of(self.layout)


@dataclass(frozen=True)
class Transaction:
    txn_id: str
    started_at: datetime
    mode: LaneMode
    mrz: MrzResult | None = None
    document_attempts: int = 0
    chip: ChipEvidence | None = None
    face: FaceEvidence | None = None
    face_rounds: int = 0
    decision: Decision | None = None
    officer_id: str | None = None
    officer_verdict: str | None = None      # OfficerVerdict value (assisted mode)
    phase: Phase | None = None
    entered: bool = False
    max_presence: int = 0
    # (step, wall time, monotonic seconds or None): durations come from the monotonic reading, so a
    # wall-clock step (NTP, an operator) cannot make one negative
    marks: tuple[tuple[str, datetime, float | None], ...] = ()
    exceptions: tuple[str, ...] = ()

    def mark(self, step: str, now: datetime, mono: float | None = None) -> Transaction:
        return replace(self, marks=self.marks + ((step, now, mono),))

    def noted(self, exception: str) -> Transaction:
        return replace(self, exceptions=self.exceptions + (exception,))

    @property
    def passing(self) -> bool:
        return self.decision is not None and self.decision.passed and self.phase is not None


@dataclass(frozen=True)
class OverrideHold:
    """Doors an officer opened remotely (BMIS `override`); no traveller transaction runs meanwhile."""
    doors: frozenset[Door]
    operator_id: str
    command_id: str


@dataclass(frozen=True)
class LaneData:
    settings: LaneSettings = LaneSettings()
    state: State = State.IDLE
    mode: LaneMode = LaneMode.NORMAL
    txn: Transaction | None = None
    txn_count: int = 0
    timer_seq: int = 0
    timers: tuple[tuple[TimerKind, int], ...] = ()
    commanded_open: frozenset[Door] = frozenset()
    closing: frozenset[Door] = frozenset()       # commanded shut, sensor not yet confirming
    # the last door of a finished passage, shutting behind a traveller who has left: the lane takes
    # the next document meanwhile (no door opens for it until every door is confirmed shut)
    closing_behind: Door | None = None
    # a PASS decided while that door still shuts: it waits for the door (no door opens before), at
    # most until the door's held-open timer, then it is decided again on the lane as it is then
    pass_held: bool = False
    # mantrap: the PASS-decided traveller between the doors (entry shut behind them, exit open for
    # them) while the next traveller's document, chip and face are checked at the kiosk; their
    # crossing ends when they are out (lane/leaving.py). The entry opens for nobody meanwhile.
    leaving: Transaction | None = None
    sensed_open: frozenset[Door] = frozenset()
    presence: int = 0
    emergency: bool = False
    faults: frozenset[Fault] = frozenset()
    held_open_alarmed: frozenset[Door] = field(default=frozenset())
    retreat: bool = False                       # entry released so somebody inside can step back
    override: OverrideHold | None = None        # doors held open by an officer override
    # (kind, wall deadline, monotonic deadline or None): countdowns are read on the monotonic clock
    deadlines: tuple[tuple[TimerKind, datetime, float | None], ...] = ()
    more_time: tuple[tuple[TimerKind, int], ...] = ()   # extensions granted per wait kind
    assistance: bool = False                    # the traveller called an officer; not yet answered
    view: KioskView | None = None               # the screen shown last (re-shown on kiosk inputs)

    def timer_token(self, kind: TimerKind) -> int | None:
        return dict(self.timers).get(kind)

    def deadline(self, kind: TimerKind) -> tuple[datetime, float | None] | None:
        if self.timer_token(kind) is None:
            return None
        return next(((wall, mono) for k, wall, mono in self.deadlines if k is kind), None)
