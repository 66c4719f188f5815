"""Devices from the config, each chosen by its URL or name. A simulated choice is always explicit
(its URL says `sim://`, the pin factory says `mock`, or the simulator injected it) and is logged as a
WARNING, so a lab setting that reaches a real lane is seen at once.

The bridges turn device inputs into lane events (ReaderBridge, PresenceWatch); each only queues:
the lane runner's single thread owns every decision.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from drivers.errors import DriverError
from drivers.passport_reader import DocumentRead, LinkChanged, LinkState, ReadError, ReaderSettings, open_reader
from firmware_app.lane import events as ev
from firmware_app.lane.state import Fault
from firmware_app.mrz import MrzError, parse

from .bounded_probe import PROBE_DEADLINE_S, BoundedProbe
from .errors import ComponentUnavailable, GateUnavailable

log = logging.getLogger("gate.app.devices")
SIM_SCHEME = "sim://"
SIM_READER_LINK = "sim-reader"          # pty symlink in data_dir that `gatesim` feeds
PCSC_VIRTUAL_READER = "virtual pcd"     # vsmartcard's vpcd reader name
CHIP_CARD_WAIT_S = 2.0
# The shipped default leaves the simulated camera without photos (no test data is assumed to exist):
# the start log says, in this one line, how to give it some.
Submit = Callable[[object], None]
SIM_CAMERA_WITHOUT_SOURCE = ("'sim://' has no photos to show: set [camera] sim_source = \"dir:///path/to/photos\" "
                             "(a folder of face images shown in turn; file:// one image, video:// a clip)")


def warn_simulated(component: str, what: str) -> None:
    log.warning("SIMULATED DEVICE in use: %s is %s", component, what)


# --- passport reader ----------------------------------------------------------------------------
def reader_url(url: str, data_dir: Path) -> str:
    """`sim://` -> the simulated reader's pty link in data_dir (`sim:///path` names another link)."""
    if not url.startswith(SIM_SCHEME):
        return url
    # absolute: the reader driver takes a device path, and a relative data_dir is the lab default
    path = url[len(SIM_SCHEME):] or str(Path(data_dir).resolve() / SIM_READER_LINK)
    warn_simulated("passport reader", f"the simulated reader on pty {path}")
    return path


def open_passport_reader(config, on_event: Callable) -> object:
    values = config.reader.model_dump()
    values["url"] = reader_url(config.reader.url, config.device.data_dir)
    try:
        return open_reader(ReaderSettings.from_mapping(values), on_event)
    except DriverError as exc:
        raise ComponentUnavailable("reader", f"{type(exc).__name__}: {exc}") from exc


class ReaderBridge:
    """Reader events -> DocumentPresented / DocumentUnreadable; link down/up -> reader fault/restored."""

    def __init__(self, submit: Submit, mrz_section, today: Callable[[], date]):
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


# --- gate --------------------------------------------------------------------------------------
def make_pin_factory(config, injected=None):
    """The configured pin factory; the simulator may hand in the MockFactory its GateSimulator drives."""
    from drivers.gate import make_pin_factory as by_name
    name = config.gate.pin_factory.value
    if injected is not None:
        if name != "mock":
            raise GateUnavailable(f"an injected pin factory needs gate.pin_factory = 'mock', not {name!r}")
        warn_simulated("gate", "gpiozero MockFactory pins driven by the simulator")
        return injected
    if name == "mock":
        warn_simulated("gate", "gpiozero MockFactory pins, doors simulated by drivers.gate.sim (nobody walks)")
    try:
        return by_name(name)
    except DriverError as exc:
        raise GateUnavailable(f"pin factory {name!r}: {exc}") from exc


def uses_safety_controller(config) -> bool:
    return config.gate.url.startswith("safety://")


def build_gate(config, factory, on_event: Callable, alive: Callable[[], bool] = lambda: True):
    """The in-process gpiozero driver (`gpio://`), or the safety controller's backend (`safety://`)."""
    if uses_safety_controller(config):
        return connect_safety_controller(config, on_event, alive)
    from drivers.gate import GateDriver
    from firmware_app.lane.wiring import gate_layout
    try:
        return GateDriver(gate_layout(config.gate), factory, on_event)
    except DriverError as exc:
        raise GateUnavailable(f"gate driver: {exc}") from exc


def connect_safety_controller(config, on_event: Callable, alive: Callable[[], bool], role: str = "appliance"):
    """`role="monitor"`: read-only (selftest, tools), never taken for the appliance by the controller."""
    from drivers.gate.safety.client import SafetyGate
    from drivers.gate.safety.settings import socket_of
    path = socket_of(config.gate.url)
    assert path is not None             # a safety:// URL names the controller's socket
    try:
        gate = SafetyGate(path, on_event, heartbeat_s=config.gate.heartbeat_s, alive=alive, role=role)
    except DriverError as exc:
        raise GateUnavailable(f"safety controller: {exc}") from exc
    assert gate.welcome is not None     # the controller greeted us (SafetyGate raises otherwise)
    if gate.welcome["state"].get("simulated"):
        warn_simulated("gate", f"gpiozero MockFactory pins hosted by the safety controller at {path}")
    log.info("gate doors owned by the safety controller at %s (its own interlocks apply)", path)
    return gate


def resting_gate(config, factory):
    """Mock pins nobody drives read as open doors and open loops; the driver's own simulator keeps
    them at rest (doors follow their relays, loops closed) so a lab gate-app behaves like a gate."""
    from drivers.gate.sim import GateSimulator
    from firmware_app.lane.wiring import gate_layout
    simulator = GateSimulator(factory, gate_layout(config.gate))
    simulator.start()
    return simulator


# --- camera ------------------------------------------------------------------------------------
def open_camera(config, injected=None):
    """The supervised camera; `injected` is a FrameSource handed in by the simulator."""
    from drivers.camera import PiCameraSettings, SupervisedSource
    from drivers.camera import open_camera as by_url
    section = config.camera
    if injected is not None:
        if not section.url.startswith(SIM_SCHEME):
            raise ComponentUnavailable("camera", "an injected camera needs camera.url = 'sim://'")
        warn_simulated("camera", f"frames injected by the simulator ({type(injected).__name__})")
        return SupervisedSource(injected, section.stall_timeout_s, time.monotonic)
    if section.url.startswith(SIM_SCHEME):
        if not section.sim_source:
            raise ComponentUnavailable("camera", SIM_CAMERA_WITHOUT_SOURCE)
        warn_simulated("camera", f"the simulated camera showing {section.sim_source}")
    try:
        picamera = PiCameraSettings(section.sensor_mode, section.max_exposure_ms, section.exposure_ms,
                                    section.analogue_gain)
        inner = by_url(section.url, width=section.width, height=section.height, sim_source=section.sim_source,
                       picamera=picamera)
    except DriverError as exc:
        raise ComponentUnavailable("camera", f"{type(exc).__name__}: {exc}") from exc
    return SupervisedSource(inner, section.stall_timeout_s, time.monotonic)


# --- chip --------------------------------------------------------------------------------------
def chip_opener(config) -> Callable[[], object]:
    """A function giving a fresh transport to the card on the configured PC/SC reader: an exclusive
    session that ends with ChipReadTimeout after smartcard.read_timeout_s."""
    from drivers.smartcard import open_transceiver
    url = config.smartcard.reader
    if PCSC_VIRTUAL_READER in url.lower():
        warn_simulated("chip reader", f"the vsmartcard virtual reader ({url})")

    budget_s = config.smartcard.read_timeout_s

    def open_card():
        return open_transceiver(url, timeout_s=CHIP_CARD_WAIT_S, session_timeout_s=budget_s)
    return open_card


def card_presence(config) -> Callable[[], bool]:
    """Whether a document (its chip) lies on the reader; polled to notice its removal."""
    from drivers.smartcard.events import card_present
    pattern = config.smartcard.reader.removeprefix("pcsc://")
    return lambda: card_present(pattern)


def load_trust_store(config):
    """CSCA certificates (and CRLs, master lists) from smartcard.csca_dir and master_list; master
    lists are pinned to the CSCA files and smartcard.master_list_roots."""
    from firmware_app.emrtd.errors import PaError
    from firmware_app.emrtd.pa import TrustStore, import_master_list, load_directory
    from firmware_app.emrtd.pa.trust_store import load_roots
    section = config.smartcard
    store = TrustStore()
    try:
        load_roots(list(section.master_list_roots), store)
        if Path(section.csca_dir).is_dir():
            load_directory(Path(section.csca_dir), store)
        else:
            log.error("no CSCA directory %s: passive authentication will refer every traveller", section.csca_dir)
        if section.master_list is not None:
            import_master_list(Path(section.master_list).read_bytes(), store, source=Path(section.master_list).name)
    except (OSError, PaError) as exc:
        raise ComponentUnavailable("trust store", f"{type(exc).__name__}: {exc}") from exc
    return store


# --- document presence (the chip on the reader) -----------------------------------------------
class PresenceWatch:
    """Polls whether the document's chip is on the reader; its removal is DocumentRemoved.

    It also watches the PC/SC reader itself: `fault_after` polls failing in a row (reader unplugged,
    pcscd gone, or hung: a probe with no answer within `deadline_s`, bounded_probe.py) are a
    chip-reader fault (the lane goes out of service, doors secured); the first poll that answers
    again restores it. A single failed poll is neither a fault nor a removal.
    """

    def __init__(self, present: Callable[[], bool], submit: Submit, interval_s: float = 0.2, fault_after: int = 3,
                 deadline_s: float = PROBE_DEADLINE_S):
        self._present = BoundedProbe(present, deadline_s, name="document-presence-probe")
        self._submit, self._interval = submit, interval_s
        self._fault_after = max(1, fault_after)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="document-presence", daemon=True)
        self._was_present = False
        self._failures = 0
        self._faulted = False

    def start(self) -> PresenceWatch:
        self._present.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._present.close()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                present = self._present()
            except Exception as exc:  # the reader or pcscd is gone or hung; pyscard's error types vary
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
