"""What the lane runner drives. Small protocols; the app wires real implementations, tests fakes."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from drivers.gate.events import GateSnapshot
from drivers.gate.layout import Door
from firmware_app.kiosk.view import KioskView
from firmware_app.mrz import MrzResult
from firmware_app.policy import ChipEvidence, Decision, Evidence, FaceEvidence

from .actions import AlarmKind, ExceptionKind, RequestDecision
from .journal import LaneJournal
from .record import CrossingRecord
from .state import LaneData


class GatePort(Protocol):
    def open_door(self, door: Door, passage: str | None = None) -> None: ...
    def close_door(self, door: Door) -> None: ...
    def secure_all(self) -> None: ...
    def release_all(self) -> None: ...
    def snapshot(self) -> GateSnapshot: ...


class ChipStage(Protocol):
    """Blocking: read and check the chip (runs on a worker thread). Raise to report a failure."""
    def __call__(self, txn_id: str, mrz: MrzResult, cancelled: threading.Event) -> ChipEvidence: ...


class FaceStage(Protocol):
    """Blocking capture + match; `feedback(instruction_key)` updates the screen while it runs."""
    def __call__(self, txn_id: str, round_no: int, feedback: Callable[[str | None], None],
                 cancelled: threading.Event) -> FaceEvidence: ...


class EarlyFace(Protocol):
    """Blocking, on its own thread while the chip is read: begin the face capture for the face
    stage to take over. Answers nothing: whatever it fails at, the face stage does itself."""
    def __call__(self, txn_id: str, cancelled: threading.Event) -> None: ...


class Decider(Protocol):
    """The policy with its alert lists and the lane's context (date, BMIS reachability)."""
    def __call__(self, request: RequestDecision, /) -> Decision: ...


class KioskPort(Protocol):
    def show(self, view: KioskView) -> None: ...


class OutboxPort(Protocol):
    """The BMIS link's outbox: must store before returning (the outbox is the system of record)."""
    def crossing(self, record: CrossingRecord) -> None: ...
    def has_crossing(self, txn_id: str) -> bool: ...     # stored (pending or already delivered)
    def exception(self, kind: ExceptionKind, txn_id: str | None, detail: str) -> None: ...
    def alarm(self, kind: AlarmKind, txn_id: str | None, detail: str) -> None: ...


class OfficerPort(Protocol):
    """The officer console's review desk (firmware_app/officer): shows the evidence, and answers
    later with an OfficerDecision event through the runner's submit()."""
    def request_review(self, txn_id: str, decision: Decision, evidence: Evidence | None) -> None: ...


class BiometricStore(Protocol):
    def discard(self, txn_id: str) -> None: ...


class Cancellable(Protocol):
    def cancel(self) -> None: ...


@dataclass
class LanePorts:
    """Everything the runner drives, in one place (the app wires real ones, tests fakes)."""
    gate: GatePort
    chip: ChipStage
    face: FaceStage
    decider: Decider
    kiosk: KioskPort
    outbox: OutboxPort
    journal: LaneJournal
    officer: OfficerPort | None = None
    biometrics: BiometricStore | None = None     # e.g. stages.PortraitVault; emptied per transaction
    observer: Callable[[LaneData], None] = lambda data: None    # told the lane's data after each step
    face_early: EarlyFace | None = None     # e.g. FaceCaptureStage.early: the face taken while the chip is read


Scheduler = Callable[[float, Callable[[], None]], Cancellable]


def thread_timer(seconds: float, callback: Callable[[], None]) -> Cancellable:
    timer = threading.Timer(seconds, callback)
    timer.daemon = True
    timer.start()
    return timer
