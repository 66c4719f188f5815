"""Walk scripted travellers through the assembled appliance on the bench, and report what happened.

Per traveller: a passport is made (test PKI, chip portrait from the person's first photo), its chip
plugged into pcscd, the live face put in front of the camera, the MRZ sent by the reader; when the
lane opens a door the GateSimulator walks the traveller (and a tailgater, or pulls the emergency
loop); the outcome is the crossing record as the BMIS consumer received it. Then the passport is
taken away and the lane must come back to idle.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque

from drivers.gate.layout import Door
from firmware_app.lane.state import State
from simulator.local_process import wait_until
from simulator.officer_agent import OfficerAgentError
from simulator.pii_guard import Issued, portrait_of
from simulator.scenario_bench import DEVICE_ID, Bench
from simulator.scenario_model import Behaviour, OfficerAnswer, Scenario, TravellerSpec
from simulator.scenario_outcome import Started, TravellerOutcome, crossing_outcome, expected_officer
from simulator.scenario_traveller import (
    document_number,
    given_name,
    mrz_lines,
    photos_of,
    present_face,
    printed_lines,
    traveller_chip,
    traveller_passport,
)
from simulator.scenario_walk import DECIDED_STATES, SCREEN_SETTLE_S, Screens, Tail, Walker, phase_of
from simulator.timing import LaneClock, TimingModel, TravellerPace
from simulator.vchip.pcscd import insert_card, remove_card

log = logging.getLogger("gatesim.scenario")
TRAVELLER_TIMEOUT_S = 40.0
POLL_S = 0.01
MAX_ISSUED = 200         # documents kept for the personal-data guard (simulator/pii_guard.py)
MAX_UNCLAIMED = 100         # crossing records read but claimed by no traveller (kept at most)
# names other modules and tests import from here (now in scenario_outcome, scenario_traveller, scenario_walk)
_expected_officer, _given_name = expected_officer, given_name
__all__ = ["DECIDED_STATES", "MAX_UNCLAIMED", "POLL_S", "TRAVELLER_TIMEOUT_S", "ScenarioRunner", "Started",
           "TravellerOutcome", "TravellerStuck", "_expected_officer", "_given_name", "mrz_lines", "photos_of",
           "printed_lines"]


class TravellerStuck(RuntimeError):
    """The lane gave no crossing record for a traveller in time."""


class ScenarioRunner:
    def __init__(self, bench: Bench, timing: TimingModel | None = None):
        self.bench, self.timing = bench, timing
        self._alert_version = 0
        self._mode = "normal"
        self._human_rng = random.Random(timing.seed if timing else 0)
        self.clock = LaneClock(timing) if timing else None
        self._entered_at: float | None = None
        self._entry_open_at: float | None = None
        self._seen = 0          # the BMIS consumer's last message read (rowid)
        self._records: dict[str, dict] = {}     # crossing records read, not yet claimed (by transaction)
        self._records_lock = threading.Lock()   # a Tail thread reads them too
        self._overlap = False                   # this traveller may walk out behind the lane (start())
        self._tail: Tail | None = None          # the last traveller walking out behind the lane
        self.before_traveller = lambda number: None     # the fault timeline's hook (simulator/faults.py)
        # each traveller's document, for the personal-data guard (bounded: a soak runs thousands)
        self.issued: deque[Issued] = deque(maxlen=MAX_ISSUED)

    def run(self, scenario: Scenario, report=lambda outcome, number: None) -> list[TravellerOutcome]:
        outcomes = []
        for number, spec in enumerate(scenario.travellers, start=1):
            self.before_traveller(number)
            outcome = self.run_traveller(number, spec)
            report(outcome, number)
            outcomes.append(outcome)
        return outcomes

    def run_traveller(self, number: int, spec: TravellerSpec) -> TravellerOutcome:
        return self.finish(self.start(number, spec))

    def start(self, number: int, spec: TravellerSpec, overlap: bool = False) -> Started:
        """The traveller from the queue to their crossing record. With `overlap` (timing model, a
        walking traveller) only until they walk out behind the lane (lane/leaving.py): a Tail walks
        them out meanwhile, the next traveller may start, and `finish` collects their record."""
        bench = self.bench
        lines = mrz_lines(number, spec, bench.now.date())
        passport = traveller_passport(bench, spec, lines)
        self.issued.append(Issued(number, lines, printed_lines(spec, lines), portrait_of(passport.files["DG2"])))
        if spec.alert:
            self._list_stolen(lines)
        self._set_mode("normal" if spec.officer is None else "assisted")
        pace = self.timing.human(self._human_rng) if self.timing else None
        set_off = self.clock.arrive(pace, accelerate=not self.tail_running()) if self.clock and pace else 0.0
        placed = time.monotonic()
        face = self._face_after(spec, number, pace)
        card = insert_card(traveller_chip(bench, spec, passport), bench.vpcd_port, spec.extended_length,
                           bench.chip_reader, latency=self._latency())
        self._overlap = overlap and self.timing is not None and spec.behaviour is Behaviour.WALK
        try:
            started = time.monotonic()
            bench.reader.faults = spec.fault_plan
            bench.reader.send(printed_lines(spec, lines), after_s=self._scan_left(placed))
            message, screen, decided = self._drive(spec, pace)
        finally:
            face.cancel()
            remove_card(card, bench.chip_reader)
            bench.camera.show(None)
        front = Started(spec, started, screen, message, None if message is not None else self._tail)
        if message is not None:
            front.done_at = time.monotonic()
            self._await_rest()
        if self.clock is not None:
            front.machine_s = decided - placed
            front.marks = self._marks(set_off, pace, placed, decided)
            front.cycle_s = self.clock.departed(set_off, self._entered_at)
        return front

    def finish(self, front: Started) -> TravellerOutcome:
        """The traveller's outcome, once their crossing record is at the BMIS."""
        message = front.message
        if message is None and front.tail is not None:
            message = front.tail.join()
            front.done_at = front.tail.done_at
        if message is None:
            raise TravellerStuck(f"no crossing record at the BMIS within {TRAVELLER_TIMEOUT_S:.0f} s "
                                 f"for the traveller who walked out behind the lane ({front.spec.label})")
        seconds = (front.done_at or time.monotonic()) - front.started
        outcome = crossing_outcome(front.spec, message, front.screen, seconds)
        outcome.machine_s, outcome.cycle_s, outcome.marks = front.machine_s, front.cycle_s, front.marks
        return outcome

    def tail_running(self) -> bool:
        return self._tail is not None and self._tail.running

    # --- the timing model (simulator/timing.py) -------------------------------------------------
    def _face_after(self, spec: TravellerSpec, number: int, pace: TravellerPace | None) -> threading.Timer:
        """The face comes in front of the camera when the traveller turns to it."""
        timer = threading.Timer(pace.look_at_camera_s if pace else 0.0, present_face, (self.bench, spec, number))
        timer.daemon = True
        if pace is None:
            present_face(self.bench, spec, number)
        else:
            timer.start()
        return timer

    def _marks(self, set_off: float, pace, placed: float, decided: float) -> dict[str, float]:
        """The traveller's moments on the lane clock, for the lane cycle's breakdown (load_breakdown.py);
        `offset` turns them back into real monotonic time (the idle the speedup skipped)."""
        assert self.clock is not None
        offset = self.clock.skipped
        # front_done: the runner is through with the traveller (their record, or walking out behind the lane)
        real = {"placed": placed, "decided": decided, "entry_open": self._entry_open_at,
                "entered": self._entered_at, "front_done": time.monotonic()}
        marks = {name: moment + offset for name, moment in real.items() if moment is not None}
        marks.update(set_off=set_off, arrived=set_off + pace.approach_s,
                     place_start=self.clock.place_started or set_off, offset=offset)
        return marks

    def _latency(self):
        return self.timing.apdu_s if self.timing else None

    def _scan_left(self, placed: float) -> float:
        if self.timing is None:
            return 0.0
        scan = self.timing.reader_detect_s + self.timing.reader_scan_s
        return max(0.0, scan - (time.monotonic() - placed))

    # --- the traveller's documents ----------------------------------------------------------
    def next_alert_version(self) -> int:
        """Alert lists only move forward: the runner and the fault timeline share one counter."""
        self._alert_version += 1
        return self._alert_version

    def document_number(self, number: int, spec: TravellerSpec) -> str:
        return document_number(mrz_lines(number, spec, self.bench.now.date()))

    def _list_stolen(self, lines: tuple[str, ...]) -> None:
        version = self.next_alert_version()
        entry = {"id": f"S{version}", "issuing_state": "UTO", "number": document_number(lines),
                 "category": "stolen"}
        result = self.bench.push_alert_list([entry], version)
        if not result or result.get("status") != "ack":
            raise TravellerStuck(f"the BMIS alert list was not accepted: {result}")

    def _set_mode(self, mode: str) -> None:
        if mode == self._mode:
            return
        result = self.bench.set_mode(mode)
        if not result or result.get("status") != "ack":
            raise TravellerStuck(f"the BMIS set-mode {mode} was not accepted: {result}")
        self._mode = mode

    # --- walking through ----------------------------------------------------------------------
    def _drive(self, spec: TravellerSpec, pace: TravellerPace | None = None) -> tuple[dict | None, str, float]:
        """Walk the traveller until the BMIS has the crossing record (None: they walk out behind
        the lane, see start()); also returns when the lane decided (the first poll that saw a
        decided state)."""
        walker = Walker(self.bench, spec.behaviour, pace)
        if not self.tail_running():
            with self._records_lock:
                self._seen = self.bench.consumer.last_rowid()      # only what arrives from now on
        screens = Screens(self.bench.appliance.views)
        behind = self._tail.txn_id if self._tail is not None else None
        txn_id, decided = None, None
        answered = not self._to_answer(spec)
        deadline = time.monotonic() + TRAVELLER_TIMEOUT_S
        while time.monotonic() < deadline:
            data = self.bench.appliance.runner.data
            if decided is None and (data.state.value in DECIDED_STATES or data.pass_held):
                decided = time.monotonic()      # a PASS held for the door behind the last traveller is decided
            if data.txn is not None and data.txn.txn_id != behind:
                txn_id = data.txn.txn_id
                if not answered and data.state is State.OFFICER_REVIEW:
                    answered = True
                    self._officer_answers(txn_id, spec)
            if txn_id is not None:
                walker.step(phase_of(data, txn_id), data.emergency)
                if self._overlap and walker.entered and data.leaving is not None and data.leaving.txn_id == txn_id:
                    self._behind_lane(walker, txn_id, screens)
                    return None, screens.outcome_screen(), decided or time.monotonic()
                message = self._crossing(txn_id)
                if message is not None:
                    decided = decided or time.monotonic()
                    self._entered_at = walker.entered_at
                    self._entry_open_at = walker.open_since(Door.ENTRY)
                    walker.finish()
                    time.sleep(SCREEN_SETTLE_S)
                    screens.close()
                    return message, screens.outcome_screen(), decided
            time.sleep(POLL_S)
        walker.finish()
        screens.close()
        raise TravellerStuck(f"no crossing record at the BMIS within {TRAVELLER_TIMEOUT_S:.0f} s "
                             f"(lane state {self.bench.appliance.lane_state()}, transaction {txn_id})")

    def _to_answer(self, spec: TravellerSpec) -> bool:
        """Whether an officer answers this traveller's review (one-stop: each authority's own)."""
        return spec.officer not in (None, OfficerAnswer.NONE)

    def _officer_answers(self, txn_id: str, spec: TravellerSpec) -> None:
        """A refused answer is not the end of the run: the lane refers at its timeout, and the
        record's officer fields then differ from the scenario's (reported as unexpected)."""
        assert spec.officer is not None         # _to_answer
        try:
            self.bench.officer.answer(txn_id, spec.officer.value)
        except (OfficerAgentError, OSError) as exc:
            log.warning("the simulated officer could not answer: %s", exc)

    def _behind_lane(self, walker: Walker, txn_id: str, screens: Screens) -> None:
        """The traveller walks out behind the lane: a Tail walks them out and waits for their record."""
        self._entered_at = walker.entered_at
        self._entry_open_at = walker.open_since(Door.ENTRY)
        screens.close()
        self._tail = Tail(walker, txn_id, lambda: self.bench.appliance.runner.data, self._crossing,
                          TRAVELLER_TIMEOUT_S, POLL_S)

    def _crossing(self, txn_id: str) -> dict | None:
        """The transaction's crossing record at the BMIS; reads only messages new since the last poll
        (a long load run must not parse the whole store on every poll). Thread-safe: a Tail reads
        its traveller's record while the runner serves the next one."""
        with self._records_lock:
            messages, self._seen = self.bench.consumer.messages_after(self._seen, kind="events/crossing",
                                                                      device_id=DEVICE_ID)
            for message in messages:
                self._records[message["data"].get("transaction_id")] = message
            while len(self._records) > MAX_UNCLAIMED:
                self._records.pop(next(iter(self._records)))       # nobody waits for the oldest
            return self._records.pop(txn_id, None)

    def _await_rest(self) -> float:
        """Until the lane is idle again (or closed, when a BMIS command closed it during the traveller);
        returns when that was seen."""
        if wait_until(self._at_rest, TRAVELLER_TIMEOUT_S, POLL_S):
            return time.monotonic()
        raise TravellerStuck(f"the lane did not come back to idle (state {self.bench.appliance.lane_state()})")

    def _at_rest(self) -> bool:
        # the lane rests in `closed` only in the closed mode (lane/lifecycle.py)
        return self.bench.appliance.lane_state() in ("idle", "closed")
