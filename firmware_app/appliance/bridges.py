"""What turns device and operator inputs into lane events, and the lane into what commands see.

Each bridge only queues: the lane runner's single thread owns every decision.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

from drivers.gate.layout import Door
from drivers.passport_reader import DocumentRead, LinkChanged, LinkState, ReadError
from firmware_app.lane import events as ev
from firmware_app.lane.errors import LaneNotRunning
from firmware_app.lane.state import Fault
from firmware_app.mrz import MrzError, parse
from firmware_app.policy import LaneMode

from .errors import OverrideRefused

log = logging.getLogger("gate.app.bridges")
_LANE_DOORS = {"entry": Door.ENTRY, "exit": Door.EXIT, "all": None}
Submit = Callable[[object], None]


class ReaderBridge:
    """Reader events -> DocumentPresented / DocumentUnreadable; link down/up -> reader fault/restored."""

    def __init__(self, submit: Submit, mrz_section, today: Callable[[], object]):
        self._submit, self._mrz, self._today = submit, mrz_section, today
        self._faulted = False

    def __call__(self, event) -> None:
        if isinstance(event, DocumentRead):
            self._submit(self._document(event.lines))
        elif isinstance(event, ReadError):
            log.info("reader frame unreadable: %s", event.reason.value)
            self._submit(ev.DocumentUnreadable(event.reason.value))
        elif isinstance(event, LinkChanged):
            self._link(event.state)

    def _document(self, lines) -> object:
        try:
            result = parse(list(lines), today=self._today(), expiry_future_years=self._mrz.expiry_future_years,
                           repair=self._mrz.ocr_repair, max_repairs=self._mrz.max_repairs)
        except MrzError as exc:
            return ev.DocumentUnreadable(type(exc).__name__)
        return ev.DocumentPresented(result)

    def _link(self, state: LinkState) -> None:
        if state is LinkState.UP and self._faulted:
            self._faulted = False
            self._submit(ev.DeviceRestored(Fault.READER))
        elif state is LinkState.DOWN and not self._faulted:
            self._faulted = True
            self._submit(ev.DeviceFault(Fault.READER, "reader link down"))


class PresenceWatch:
    """Polls whether the document's chip is on the reader; its removal is DocumentRemoved.

    It also watches the PC/SC reader itself: `fault_after` polls failing in a row (reader unplugged,
    pcscd gone) are a chip-reader fault (the lane goes out of service, doors secured); the first
    poll that answers again restores it. A single failed poll is neither a fault nor a removal.
    """

    def __init__(self, present: Callable[[], bool], submit: Submit, interval_s: float = 0.2, fault_after: int = 3):
        self._present, self._submit, self._interval = present, submit, interval_s
        self._fault_after = max(1, fault_after)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="document-presence", daemon=True)
        self._was_present = False
        self._failures = 0
        self._faulted = False

    def start(self) -> PresenceWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                present = self._present()
            except Exception as exc:  # the reader or pcscd is gone; which error pyscard raises varies
                self._poll_failed(exc)
                continue
            self._poll_answered()
            if self._was_present and not present:
                self._submit(ev.DocumentRemoved())
            self._was_present = present

    def _poll_failed(self, exc: Exception) -> None:
        self._failures += 1
        log.debug("document presence poll failed: %s", type(exc).__name__)
        if self._failures >= self._fault_after and not self._faulted:
            self._faulted = True
            log.error("chip reader not answering (%d polls): %s", self._failures, type(exc).__name__)
            self._submit(ev.DeviceFault(Fault.CHIP_READER, f"chip reader not answering: {type(exc).__name__}"))

    def _poll_answered(self) -> None:
        self._failures = 0
        if self._faulted:
            self._faulted = False
            log.warning("chip reader answers again")
            self._submit(ev.DeviceRestored(Fault.CHIP_READER))


class RunnerLaneControl:
    """The lane as BMIS commands see it (firmware_app.bmis.command_handlers.LaneControl)."""

    def __init__(self, clock: Callable[[], datetime], override_wait_s: float = 2.0):
        self._runner, self._clock = None, clock
        self._override_wait_s = override_wait_s
        self._overrides = 0     # numbers overrides that reach us without the BMIS command id

    def attach(self, runner) -> None:
        """The runner is built after the BMIS side (it needs the outbox); commands wait for it."""
        self._runner = runner

    def set_mode(self, mode: LaneMode, operator_id: str | None) -> None:
        if self._runner is None:
            raise LaneNotRunning("the lane is not running yet")
        log.info("lane mode -> %s by BMIS command", mode.value)
        self._runner.submit(ev.ModeChanged(LaneMode(mode)))

    def override_door(self, action, door, operator_id: str, command_id: str | None = None) -> None:
        """The lane decides (never during a passage or an emergency) and audits it; a refusal or no
        answer in time is raised as OverrideRefused, which the command processor nacks."""
        if self._runner is None:
            raise LaneNotRunning("the lane is not running yet")
        self._overrides += 1
        event = ev.OfficerOverride(_LANE_DOORS[str(getattr(door, "value", door))],
                                   ev.OverrideAction(str(getattr(action, "value", action))),
                                   operator_id, command_id or f"override-{self._overrides}")
        answer = self._runner.officer_override(event, self._override_wait_s)
        if answer is None:
            raise OverrideRefused("the lane did not answer in time; nothing was done")
        if not answer.accepted:
            raise OverrideRefused(f"refused by the lane: {answer.refusal.value}")
        log.info("officer override %s %s carried out", event.action.value, event.door.value if event.door else "all")

    def request_status(self) -> dict:
        data = self._runner.data if self._runner is not None else None
        if data is None:
            return {"state": "starting"}
        return {"state": data.state.value, "mode": data.mode.value, "faults": sorted(f.value for f in data.faults),
                "emergency": data.emergency, "presence": data.presence, "transactions": data.txn_count}
