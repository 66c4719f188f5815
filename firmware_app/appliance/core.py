"""The Appliance: the one place that wires the gate from its config, in the safe order.

Build (each step one method, in this order): gate driver first and doors secured at once; storage
(data dir, lane journal); the BMIS side (outbox, command side, link not yet connected); kiosk;
camera + face models (warmed); trust store + chip reader; the officer console ([officer]: its review
desk is the lane's OfficerPort; one that cannot be built or start is a health entry, not a lane
fault: assisted-mode travellers are then referred at lane.officer_s); policy and lane runner. Construction
helpers live by boundary: devices.py (hardware), parts.py (kiosk, face), bmis_side.py (BMIS),
firmware_app.lane.wiring (lane values), firmware_app.bmis.wiring / command_wiring (link, stores);
what the appliance reports about itself (health, lane state) in observation.py, the shutdown
stance in shutdown.py.
A component that cannot be built is replaced by a stand-in that refuses, and becomes a device
fault: the lane starts OUT_OF_SERVICE with the doors secured and the BMIS is told. Only a gate that
cannot be built at all stops the build (GateUnavailable): without a driver nothing can hold the doors.
Each fault names its own device kind (kiosk, camera, face_models, trust_store, bmis_link, outbox, ...).
A BMIS link that is not configured is no fault: records stay in the local outbox (bmis_side.py).
Start: kiosk, image decoder warmed; the runner secures the doors again, voids and reports unfinished
transactions, reads the sensors; the build's faults go to the lane; only then the BMIS link
connects, the officer console listens, and the reader and document-presence watch start.
Stop: the never-trapped rule holds at shutdown too (a deliberate choice over "lock everything"):
with somebody sensed inside a mantrap, or sensors unreadable, the exit is locked and the entry left
released (every door in an emergency), logged and alarmed (person_inside); those relays stay driven
until the process ends, then every door rests in its configured fail mode (a fail-secure entry
locks then: the alarm has called an officer; a fail-safe one releases).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drivers.errors import DriverError
from drivers.gate.layout import Door, LayoutKind
from firmware_app.deploy.cert_expiry import CertificateWatch
from firmware_app.emrtd.budget import ReadBudget
from firmware_app.emrtd.reader import ReadOptions
from firmware_app.errors import GateError
from firmware_app.face.untrusted import ImageKind, UntrustedImageDecoder
from firmware_app.kiosk.errors import KioskError
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind
from firmware_app.lane.errors import LaneError
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.ports import LanePorts
from firmware_app.lane.runner import LaneRunner
from firmware_app.lane.stages import ChipReadStage, FaceCaptureStage, PortraitVault
from firmware_app.lane.state import Fault
from firmware_app.lane.wiring import hooked_decider, lane_settings, policy_decider, start_mode
from firmware_app.storage import SchemaError

from . import devices
from .bmis_side import OfflineBmisSide, RefusingOutbox, build_bmis_side, offline_side
from .devices import PresenceWatch, ReaderBridge
from .early_inputs import EarlyInputs, hold_at_boot
from .errors import ComponentUnavailable
from .field_ops import FieldOps
from .observation import ApplianceObservation
from .officer_side import BiometricStores, NoOfficerSide, OfficerSide, build_officer_side
from .onestop import build_onestop, onestop_decider
from .onestop_officers import OnestopOfficers, build_onestop_officers, officers_enabled
from .onestop_trust import lane_store_used
from .parts import NullKiosk, RefusingFaceStage, ViewTee, build_face_stage, build_kiosk
from .shutdown import Idle, door_names, quietly, shutdown_stance
from .timesync import ClockState, ClockWatch, probe_from_config

log = logging.getLogger("gate.app")
JOURNAL_FILE = "lane-journal.db"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Overrides:
    """Simulated devices the simulator hands in (each logged as simulated when used)."""
    pin_factory: object | None = None
    camera: object | None = None
    card_presence: Callable[[], bool] | None = None     # stands in for the PC/SC presence poll
    clock_probe: Callable[[], ClockState] | None = None  # stands in for the NTP state (timesync.py)
    decision_hook: Callable[[], None] | None = None     # runs before each decision (a bench's policy_hang fault)
    rest_pins: Callable[[], None] | None = None         # the simulator's mock pins at rest, before the first command


class Appliance(ApplianceObservation):
    def __init__(self, config, *, clock: Callable[[], datetime] = utc_now,
                 rng: Callable[[int], bytes] = os.urandom, overrides: Overrides = Overrides(),
                 base_dir: Path = Path(".")):
        self.config, self.clock, self.rng, self.overrides, self.base_dir = config, clock, rng, overrides, base_dir
        self.faults: list[tuple[Fault, ComponentUnavailable]] = []
        self.clock_watch = _clock_watch(config, overrides)
        self.cert_watch = CertificateWatch(config.bmis.cert_file)
        self.gate: Any = None               # the first thing build() makes (GateDriver or SafetyGate)
        self.pin_factory = None             # None when the safety controller owns the pins
        self.gate_simulator = Idle()        # keeps mock pins nobody else drives at rest
        self.kiosk = NullKiosk()
        self.views = ViewTee(self.kiosk)    # the lane's KioskPort: the kiosk, then observers (a bench)
        self.bmis = OfflineBmisSide(RefusingOutbox(ComponentUnavailable("bmis", "not built yet")))
        self.decoder = UntrustedImageDecoder(warm=(ImageKind.PORTRAIT,))  # chip portraits, in a worker process
        self.early = EarlyInputs(LayoutKind(config.gate.layout))   # gate inputs until the runner exists
        self.runner: LaneRunner | EarlyInputs = self.early
        self.reader: Any = Idle()                   # a passport reader once the inputs start
        self.presence: PresenceWatch | Idle = Idle()
        self.officer: OfficerSide | NoOfficerSide | OnestopOfficers = NoOfficerSide()   # [officer] console(s)
        self.officer_problem: str | None = None
        self._built = self._started = False
        # gatectl status, metrics, health 1.2, update-apply and the updater's alarms (field_ops.py)
        self.ops = FieldOps(config, clock=clock, lane_state=self.lane_state, lane_mode=self._lane_mode,
                            outbox_counts=self._outbox_counts, components=self.health,
                            links=lambda: self.bmis.device_links(), certificate=self._certificate_in_use)

    # --- build: the safe order -----------------------------------------------------------------
    def build(self) -> Appliance:
        self._secure_doors()                      # first: nothing else runs before the doors are held
        journal = self._open_journal()
        self.bmis = self._open_bmis_side()
        self._build_kiosk()
        vault = PortraitVault(keep_live=officers_enabled(self.config))  # chip portrait -> face stage (and the
        face = self._build_face(vault)                                  # live frame for the officer console)
        chip = self._build_chip(vault)
        self.officer = self._build_officer(vault)
        self._build_lane(journal, face, chip, vault)
        self._built = True
        return self

    def _secure_doors(self) -> None:
        if devices.uses_safety_controller(self.config):     # the controller owns the pins
            # not attached to self.early: the controller releases on its own, and a request from its
            # event thread would wait on the answer that very thread must deliver
            self.gate = devices.build_gate(self.config, None, self._gate_event, self._heartbeat_ok)
            try:
                self.gate.secure_all()
            except DriverError as exc:      # e.g. refused in an emergency: the controller holds the doors
                log.warning("safety controller: secure at start: %s", exc)
            return
        self.pin_factory = devices.make_pin_factory(self.config, self.overrides.pin_factory)
        self.gate = devices.build_gate(self.config, self.pin_factory, self._gate_event)
        self.early.attach(self.gate)
        self._rest_mock_pins()
        hold_at_boot(self.gate)                 # secured, or released if the emergency loop is open
        log.info("gate built (%s, %s pins); doors secured", self.config.gate.layout,
                 self.config.gate.pin_factory.value)

    def _rest_mock_pins(self) -> None:
        """Mock pins read as open loops until something drives them (gpiozero's pull-ups): at rest
        before the first door command, or every lab boot is an emergency boot (and says so). The
        loops closing are edges no real loop makes at boot: forgotten (the boot reads the levels)."""
        if self.overrides.rest_pins is not None:
            self.overrides.rest_pins()
        elif self.config.gate.pin_factory.value == "mock" and self.overrides.pin_factory is None:
            self.gate_simulator = devices.resting_gate(self.config, self.pin_factory)
        else:
            return
        log.debug("mock pins at rest; %d edge(s) of theirs forgotten", self.early.forget_kept())

    def _open_journal(self) -> LaneJournal:
        Path(self.config.device.data_dir).mkdir(parents=True, exist_ok=True)
        try:
            return LaneJournal.open(Path(self.config.device.data_dir) / JOURNAL_FILE)
        except (LaneError, SchemaError) as exc:     # e.g. written by a newer release (a downgrade)
            self._fault(Fault.JOURNAL, ComponentUnavailable("lane journal", f"{type(exc).__name__}: {exc}"))
            return LaneJournal.in_memory()

    def _open_bmis_side(self):
        if self.config.authority:
            return self._open_onestop_sides()
        try:
            return build_bmis_side(self.config, self.clock, health_source=self.health,
                                   health_info=self.ops.health_info, updates=self.ops.update_port())
        except GateError as exc:
            error = ComponentUnavailable("bmis", f"{type(exc).__name__}: {exc}")
        try:        # no commands or alert lists (lane out of service), but the records are still kept
            side = offline_side(self.config, self.clock)
        except GateError as exc:
            self._fault(Fault.OUTBOX, ComponentUnavailable("outbox", f"{type(exc).__name__}: {exc}"))
            return OfflineBmisSide(RefusingOutbox(error))        # no record could be kept
        self._fault(Fault.BMIS_LINK, error)
        return side

    def _open_onestop_sides(self):
        """A one-stop lane: both authorities' sides (onestop.py), or none: without one of them no
        record can be kept as the agreement says, so the lane stays out of service."""
        try:
            sides = build_onestop(self.config, self.clock, self.clock_watch.synchronised, self.health,
                                  updates=self.ops.update_port(), health_info=self.ops.health_info)
        except GateError as exc:
            error = ComponentUnavailable("onestop", f"{type(exc).__name__}: {exc}")
        else:
            for missing in sides.trust_faults():    # an authority that does not run without its store
                self._fault(Fault.TRUST_STORE, missing)
            return sides
        self._fault(Fault.OUTBOX, error)
        return OfflineBmisSide(RefusingOutbox(error))

    def _build_kiosk(self) -> None:
        try:
            self._use_kiosk(build_kiosk(self.config, self._traveller_input))
        except ComponentUnavailable as exc:
            self._fault(Fault.KIOSK, exc)     # a lane without screens cannot guide anyone

    def _build_face(self, vault: PortraitVault):
        try:
            camera = devices.open_camera(self.config, self.overrides.camera)
        except ComponentUnavailable as exc:
            self._fault(Fault.CAMERA, exc)
            camera = None
        try:
            stage = build_face_stage(self.config, camera, vault, self.base_dir)
        except ComponentUnavailable as exc:
            self._fault(Fault.FACE_MODELS, exc)
            return RefusingFaceStage(exc)
        return stage if camera is not None else RefusingFaceStage(self._fault_of(Fault.CAMERA))

    def _build_chip(self, vault: PortraitVault) -> ChipReadStage:
        store = self._lane_trust_store()
        section = self.config.smartcard
        budget = ReadBudget(time_s=section.read_timeout_s, min_block=section.min_read_block)
        options = ReadOptions(fallback_to_bac=not section.require_pace)
        return ChipReadStage(devices.chip_opener(self.config), store, self.rng, time.monotonic, self.clock, vault,
                             options=options, budget=budget, decoder=self.decoder)

    def _lane_trust_store(self):
        """The [smartcard] store; None when it is unusable (passive authentication then fails: the
        lane refers) or unused (a one-stop lane whose authorities all have their own)."""
        if not lane_store_used(self.config):
            log.info("[smartcard] trust store not loaded: each authority judges the chip with its own store")
            return None
        try:
            return devices.load_trust_store(self.config)
        except ComponentUnavailable as exc:
            self._fault(Fault.TRUST_STORE, exc)
            return None

    def _build_officer(self, vault: PortraitVault):
        if self.config.authority:       # a one-stop lane: each authority's own console
            built = build_onestop_officers(self.config, self.bmis, self._submit, vault, self.clock)
            self.officer_problem = built.problem if isinstance(built, OnestopOfficers) else None
            return built
        if not self.config.officer.enabled:
            return NoOfficerSide()
        try:
            return build_officer_side(self.config, self._submit, vault, self.clock)
        except GateError as exc:    # not a lane fault: assisted-mode travellers are referred at the timeout
            return self._no_officer(exc)

    def _no_officer(self, exc: GateError) -> NoOfficerSide:
        self.officer_problem = f"{type(exc).__name__}: {exc}"
        log.error("officer console unavailable: %s", self.officer_problem)
        return NoOfficerSide()

    def _build_lane(self, journal: LaneJournal, face, chip: ChipReadStage, vault: PortraitVault) -> None:
        if self.config.authority:       # a one-stop lane: both authorities decide
            decider = onestop_decider(self.bmis)
        else:
            decider = policy_decider(self.config.policy, self.bmis.alerts, lambda: self.clock().date(),
                                     self.bmis_reachable, self.clock_watch.synchronised,
                                     self.config.face.pad.required)
        if self.overrides.decision_hook is not None:
            devices.warn_simulated("policy stage", "a simulator hook runs before each decision (fault injection)")
            decider = hooked_decider(decider, self.overrides.decision_hook)
        outbox = self.ops.tap(self.bmis.outbox)  # the last events for gatectl status (codes only)
        early = face.early if isinstance(face, FaceCaptureStage) else None     # the face taken during the chip read
        ports = LanePorts(self.gate, chip, face, decider, self.views, outbox, journal,
                          officer=self.officer.desk, biometrics=BiometricStores(vault, self.officer.desk),
                          observer=self.bmis.lane_changed, face_early=early)
        settings = lane_settings(self.config, boot_id=self.rng(6).hex())
        runner = LaneRunner(settings, ports, self.clock, start_mode(self.config))
        self.early.hand_over(runner)            # emergency/tamper edges of the build are not lost
        self.runner = runner
        self.bmis.attach(self.runner, chip, self._trust_store_restored)

    # --- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._built:
            self.build()
        self._start_kiosk()
        self.decoder.warm_up()                    # in the background: the lane starts at once
        self._start_lane()
        self.bmis.start()                         # the link connects only once the lane holds the doors
        self._start_officer()
        self._start_inputs()
        self.ops.start()                          # status socket, metrics, the updater's alarms
        log.info("lane running (device %s, %d component fault(s))", self.config.device.id, len(self.faults))

    def _start_kiosk(self) -> None:
        try:
            self.kiosk.start()
        except KioskError as exc:         # e.g. its port is taken: no screen, no traveller served
            self._fault(Fault.KIOSK, ComponentUnavailable("kiosk", str(exc)))
            self._use_kiosk(NullKiosk())

    def _start_lane(self) -> None:
        assert isinstance(self.runner, LaneRunner)      # build() made it
        self.runner.start()                       # secures, voids + reports the unfinished, reads sensors
        self._started = True
        for fault, error in self.faults:
            self.runner.submit(ev.DeviceFault(fault, str(error)[:200]))

    def _start_officer(self) -> None:
        try:
            self.officer.start()
            if isinstance(self.officer, OnestopOfficers):     # one authority's console may not have started
                self.officer_problem = self.officer.problem
        except GateError as exc:    # e.g. its port is taken: its desk stays idle, reviews time out
            quietly(self.officer.stop)
            self.officer = self._no_officer(exc)

    def _start_inputs(self) -> None:
        bridge = ReaderBridge(self._submit, self.config.mrz, lambda: self.clock().date())
        try:
            self.reader = devices.open_passport_reader(self.config, bridge)
        except ComponentUnavailable as exc:
            self._fault(Fault.READER, exc)
            self.runner.submit(ev.DeviceFault(Fault.READER, str(exc)[:200]))
        present = self.overrides.card_presence or devices.card_presence(self.config)
        self.presence = PresenceWatch(present, self._submit).start()

    # --- stop ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Orderly: inputs off, lane stopped (doors secured), kiosk and BMIS link closed."""
        quietly(self.ops.stop)                   # a stopping gate no longer answers as alive
        quietly(self.reader.close)
        quietly(self.presence.stop)
        self.runner.stop()
        released: frozenset[Door] = frozenset()
        if self.gate is not None:
            released = shutdown_stance(self.gate, LayoutKind(self.config.gate.layout), self._alarm)
        quietly(self.kiosk.stop)
        quietly(self.officer.stop)
        quietly(self.decoder.close)
        quietly(self.bmis.stop)
        if self.gate is not None:
            quietly(lambda: self.gate.close(keep_released=released))
        quietly(self.gate_simulator.stop)
        self._started = False
        kept = f" except {door_names(released)} (see above)" if released else ""
        log.info("appliance stopped; doors secured" + kept)

    def _alarm(self, kind: AlarmKind, detail: str) -> None:
        self.bmis.outbox.alarm(kind, None, detail)

    # --- inputs and callbacks (each only queues for the lane) -----------------------------------
    def _gate_event(self, event) -> None:
        self.runner.on_gate_event(event)

    def _traveller_input(self, traveller_input) -> None:
        self.runner.on_traveller_input(traveller_input)

    def _submit(self, event) -> None:
        try:
            self.runner.submit(event)
        except LaneError:
            log.debug("event before the lane runs dropped: %s", type(event).__name__)

    def _heartbeat_ok(self) -> bool:
        """The safety controller hears from us only while the lane is healthy (or still starting)."""
        return not self._started or self.lane_alive()

    def _trust_store_restored(self) -> None:
        """A BMIS pki-update gave a usable store where start-up had none."""
        if any(kind is Fault.TRUST_STORE for kind, _ in self.faults):
            self.runner.submit(ev.DeviceRestored(Fault.TRUST_STORE))

    def _use_kiosk(self, kiosk) -> None:
        self.kiosk = self.views.kiosk = kiosk

    def _fault(self, fault: Fault, error: ComponentUnavailable) -> None:
        log.error("component unavailable, lane out of service: %s", error)
        self.faults.append((fault, error))

    def _fault_of(self, fault: Fault) -> ComponentUnavailable:
        return next(error for kind, error in self.faults if kind is fault)

def _clock_watch(config, overrides: Overrides) -> ClockWatch:
    probe = overrides.clock_probe
    if probe is not None:
        log.warning("SIMULATED DEVICE: clock synchronisation state from the simulator")
    return ClockWatch(probe or probe_from_config(config.clock), config.clock.recheck_s)
