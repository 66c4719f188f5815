"""Walk scripted travellers through the assembled appliance on the bench, and report what happened.

Per traveller: a passport is made (test PKI, chip portrait from the person's first photo), its chip
plugged into pcscd, the live face put in front of the camera, the MRZ sent by the reader; when the
lane opens a door the GateSimulator walks the traveller (and a tailgater, or pulls the emergency
loop); the outcome is the crossing record as the BMIS consumer received it. Then the passport is
taken away and the lane must come back to idle.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivers.camera.files import read_image_file
from drivers.gate.layout import Door
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.lane.state import State
from firmware_app.mrz import MrzFields, compose
from simulator.live_scenes import SCENES, with_companion
from simulator.local_process import wait_until
from simulator.officer_agent import OfficerAgentError
from simulator.passport_factory import Forgery as FactoryForgery
from simulator.passport_factory import PassportSpec, build_passport, chip_portrait
from simulator.scenario import (
    Behaviour,
    CardAccess,
    Chip,
    Document,
    Forgery,
    MrzDefect,
    OfficerAnswer,
    Scenario,
    ScenarioError,
    TravellerSpec,
)
from simulator.scenario_bench import DEVICE_ID, OFFICER, Bench
from simulator.scenario_documents import altered_name, filler_expiry_check, wrong_composite
from simulator.scenario_walk import DECIDED_STATES, SCREEN_SETTLE_S, Screens, Tail, Walker, phase_of
from simulator.timing import LaneClock, TimingModel, TravellerPace
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.pcscd import insert_card, remove_card

log = logging.getLogger("gatesim.scenario")
TRAVELLER_TIMEOUT_S = 40.0
POLL_S = 0.01
MAX_UNCLAIMED = 100         # crossing records read but claimed by no traveller (kept at most)
_FORGERIES: dict[Forgery | None, FactoryForgery] = {
    Forgery.TAMPERED_DG: FactoryForgery(tamper_dg=2), Forgery.CLONE: FactoryForgery(clone=True),
    Forgery.WRONG_SIGNER: FactoryForgery(wrong_signer=True)}

# brainpoolP256r1 (standard parameter 13), AES-128: generic mapping, and chip authentication mapping
_PACE = {Chip.BAC: (), Chip.PACE: (PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13),),
         Chip.PACE_CAM: (PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13),)}


class TravellerStuck(RuntimeError):
    """The lane gave no crossing record for a traveller in time."""


@dataclass
class Started:
    """A traveller the runner has served (start()); their record may still be on its way (tail)."""
    spec: TravellerSpec
    started: float                      # the MRZ sent by the reader (monotonic)
    screen: str
    message: dict | None                # their crossing record (None: walking out behind the lane)
    tail: Tail | None = None
    done_at: float | None = None        # the record seen at the BMIS
    machine_s: float | None = None
    cycle_s: float | None = None
    marks: dict[str, float] = field(default_factory=dict)


@dataclass
class TravellerOutcome:
    label: str
    outcome: str
    reasons: tuple[str, ...]
    screen: str
    timings_ms: dict[str, float]
    seconds: float
    expected: str | None
    msg_id: str = ""
    notes: list[str] = field(default_factory=list)
    expected_reasons: tuple[str, ...] | None = None
    access: str = "-"                      # how the chip was opened (BAC, PACE), from the record
    chip_auth: dict | None = None          # the record's chip authentication result (CA or CAM)
    officer: tuple[str | None, str | None] = (None, None)       # the record's officer id and decision
    expected_officer: tuple[str | None, str | None] | None = None
    machine_s: float | None = None         # timing model: document on the reader to the decision
    cycle_s: float | None = None           # timing model: this traveller in to the next traveller in
    marks: dict[str, float] = field(default_factory=dict)   # timing model: moments on the lane clock (s)

    @property
    def as_expected(self) -> bool:
        return not self.differences()

    @property
    def chip(self) -> str:
        """How the chip was opened and proved genuine, e.g. PACE+CAM, BAC+CA ("-": not read)."""
        auth = self.chip_auth or {}
        return self.access + (f"+{auth.get('check')}" if auth.get("performed") else "")

    def differences(self) -> list[str]:
        """What differs from the scenario's expectations (empty: as expected or nothing expected)."""
        found = []
        if self.expected is not None and self.expected != self.outcome:
            found.append(f"outcome {self.outcome}, wanted {self.expected}")
        if self.expected_reasons is not None and set(self.expected_reasons) != set(self.reasons):
            found.append(f"reasons {','.join(self.reasons) or 'none'}, wanted "
                         f"{','.join(sorted(self.expected_reasons)) or 'none'}")
        if self.expected_officer is not None and self.expected_officer != self.officer:
            found.append(f"officer {self.officer[1] or 'none'} by {self.officer[0] or 'nobody'} in the record, "
                         f"wanted {self.expected_officer[1] or 'none'} by {self.expected_officer[0] or 'nobody'}")
        return found

    def _check(self) -> str:
        if self.expected is None and self.expected_reasons is None:
            return ""
        return "  ok" if self.as_expected else f"  UNEXPECTED ({'; '.join(self.differences())})"

    def line(self, number: int) -> str:
        reasons = ",".join(self.reasons) or "-"
        steps = " ".join(f"{k}={v:.0f}" for k, v in self.timings_ms.items() if k != "total")
        check = self._check()
        timed = "" if self.machine_s is None else f"machine={self.machine_s:.2f}s cycle={self.cycle_s:.1f}s "
        return (f"  {number}. {self.label:<40} {self.outcome:<10} reasons={reasons:<34} chip={self.chip:<8} "
                f"screen={self.screen:<16} {timed}"
                f"{self.seconds:4.1f}s [{steps} ms]{check}")


def photos_of(faces_dir: Path, person: str) -> list[Path]:
    folder = faces_dir / person
    photos = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if len(photos) < 2:
        raise ScenarioError(f"{folder}: needs at least two photos of the person")
    return photos


def mrz_lines(number: int, spec: TravellerSpec, today: dt.date) -> tuple[str, ...]:
    """The MRZ as issued (printed and in the chip's DG1); `printed_lines` is what the reader sees."""
    expiry = today.replace(year=today.year - 1) if spec.expired else today.replace(year=today.year + 5)
    birth = (_years_before(today, 10) if spec.minor else dt.date(1985, 3, 15)).strftime("%y%m%d")
    td1 = spec.document is Document.TD1
    fields = MrzFields(document_code="ID" if td1 else "P", issuing_state="UTO", document_number=f"GS{number:07d}",
                       birth_date=birth[:2] + "<<<<" if spec.birth_date_unknown else birth,
                       sex="F" if number % 2 else "M",
                       expiry_date="<<<<<<" if spec.no_expiry else expiry.strftime("%y%m%d"),
                       nationality=spec.nationality, primary_identifier="TRAVELLER",
                       secondary_identifier=_given_name(number))
    lines = compose("TD1" if td1 else "TD3", fields)
    lines = filler_expiry_check(lines) if spec.no_expiry else lines
    return wrong_composite(lines) if spec.mrz_defect is MrzDefect.COMPOSITE_CHECK_DIGIT else lines


def printed_lines(spec: TravellerSpec, issued: tuple[str, ...]) -> tuple[str, ...]:
    return altered_name(issued) if spec.forgery is Forgery.ALTERED_MRZ else issued


def _document_number(lines: tuple[str, ...]) -> str:
    number = lines[0][5:14] if len(lines) == 3 else lines[1][:9]      # TD1: line 1; TD3: line 2
    return number.rstrip("<")


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:                      # 29 February
        return today.replace(year=today.year - years, day=28)


def _given_name(number: int) -> str:
    return "DEMO " + "".join(chr(ord("A") + int(d)) for d in str(number))


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
        passport = self._passport(spec, lines)
        if spec.alert:
            self._list_stolen(lines)
        self._set_mode("normal" if spec.officer is None else "assisted")
        pace = self.timing.human(self._human_rng) if self.timing else None
        set_off = self.clock.arrive(pace, accelerate=not self.tail_running()) if self.clock and pace else 0.0
        placed = time.monotonic()
        face = self._face_after(spec, number, pace)
        card = insert_card(self._chip(spec, passport), bench.vpcd_port, spec.extended_length,
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
        outcome = _outcome(front.spec, message, front.screen, (front.done_at or time.monotonic()) - front.started)
        outcome.machine_s, outcome.cycle_s, outcome.marks = front.machine_s, front.cycle_s, front.marks
        return outcome

    def tail_running(self) -> bool:
        return self._tail is not None and self._tail.running

    # --- the timing model (simulator/timing.py) -------------------------------------------------
    def _face_after(self, spec: TravellerSpec, number: int, pace: TravellerPace | None) -> threading.Timer:
        """The face comes in front of the camera when the traveller turns to it."""
        timer = threading.Timer(pace.look_at_camera_s if pace else 0.0, self._present, (spec, number))
        timer.daemon = True
        if pace is None:
            self._present(spec, number)
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
    def _passport(self, spec: TravellerSpec, lines: tuple[str, ...]):
        reference = photos_of(self.bench.faces_dir, spec.person)[0]
        portrait = chip_portrait(reference.read_bytes())
        forgery = _FORGERIES.get(spec.forgery, FactoryForgery())     # altered_mrz: the printed page only
        pki = self.bench.new_passport_pki if spec.csca == "new" else self.bench.passport_pki
        return build_passport(PassportSpec(lines, portrait, seed="gatesim-demo", pace=_PACE[spec.chip]),
                              pki, self.bench.now, forgery)

    def _chip(self, spec: TravellerSpec, passport) -> VirtualIcaoChip:
        if spec.hostile is None:
            config = chip_config(passport, extended_length=spec.extended_length)
            if spec.card_access is CardAccess.HIDDEN:       # the man in the middle: no PACE on offer
                config = dataclasses.replace(config, card_access=None)
            return VirtualIcaoChip(config, os.urandom)
        from simulator.hostile import HostileCase, hostile_chip
        return hostile_chip(HostileCase(spec.hostile.value), passport, self.bench.passport_pki, self.bench.now,
                            os.urandom)

    def _live_photo(self, spec: TravellerSpec) -> Path:
        if spec.impostor:
            return photos_of(self.bench.faces_dir, spec.impostor)[1]
        return photos_of(self.bench.faces_dir, spec.person)[1]

    def _present(self, spec: TravellerSpec, number: int) -> None:
        """The traveller's face, or their photo held to the camera as the scenario's attack."""
        photo = self._live_photo(spec)
        if spec.presentation_attack is None and spec.live_image is None and spec.companion is None:
            self.bench.camera.show(photo)
            return
        if spec.presentation_attack is None:
            self.bench.camera.show_image(self._scene(spec, read_image_file(photo)))
            return
        from simulator.presentation_attacks import SYNTHESISERS
        rng = np.random.default_rng(number)     # the same attack frame on every run
        attack = SYNTHESISERS[spec.presentation_attack.value](read_image_file(photo), rng)
        self.bench.camera.show_image(attack)

    def _scene(self, spec: TravellerSpec, image: np.ndarray) -> np.ndarray:
        """The live face as the scenario says it reaches the camera (simulator/live_scenes.py)."""
        if spec.companion is not None:
            image = with_companion(image, read_image_file(photos_of(self.bench.faces_dir, spec.companion)[1]))
        return SCENES[spec.live_image](image) if spec.live_image is not None else image

    def next_alert_version(self) -> int:
        """Alert lists only move forward: the runner and the fault timeline share one counter."""
        self._alert_version += 1
        return self._alert_version

    def document_number(self, number: int, spec: TravellerSpec) -> str:
        return _document_number(mrz_lines(number, spec, self.bench.now.date()))

    def _list_stolen(self, lines: tuple[str, ...]) -> None:
        version = self.next_alert_version()
        entry = {"id": f"S{version}", "issuing_state": "UTO", "number": _document_number(lines),
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


def _outcome(spec: TravellerSpec, message: dict, screen: str, seconds: float) -> TravellerOutcome:
    data = message["data"]
    decision = data.get("decision") or {}
    reasons = tuple(dict.fromkeys(decision.get("reasons", ())))    # AA and CA may both say clone
    return TravellerOutcome(spec.label, data["outcome"], reasons, screen,
                            dict(data.get("timings_ms", {})), seconds, spec.expect, message["msg_id"],
                            expected_reasons=spec.expect_reasons, access=data.get("access_protocol") or "-",
                            chip_auth=(data.get("chip") or {}).get("chip_auth"),
                            officer=(data.get("officer_id"), data.get("officer_decision")),
                            expected_officer=_expected_officer(spec))


def _expected_officer(spec: TravellerSpec) -> tuple[str | None, str | None] | None:
    """Who must be named in the crossing record as having decided what (None: not checked)."""
    if spec.officer is None:
        return None
    if spec.officer is OfficerAnswer.NONE:
        return (None, None)
    return (OFFICER, spec.officer.value)
