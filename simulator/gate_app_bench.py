"""The scenario bench with the appliance as a device runs it: `gate-app` and the door safety
controller `gate-safety` as their own processes, so that a power cut can SIGKILL them.

Chosen for scenarios with a power_cut fault (or `gatesim scenario --own-process`). The devices
cross the process boundary as they would on a device: the reader is the same pty (its link in
data_dir), the chip is behind the same pcscd, the camera is `dir://` on a folder holding one photo
that the bench replaces atomically, NTP is the `[clock] sync_marker` file, and the gate's pins are
MockFactory pins inside gate-safety, driven through its test-only control socket (gate_link.py;
it exists only with simulated pins). The lane's state comes from gate-app's status socket; the
BMIS side is the same broker and consumer. A power cut (`power_cut`) SIGKILLs both processes (the
box loses power), keeps them down, and restarts them in systemd's order; the bench then checks that
no door was released by the restart and times restart -> READY=1 -> lane in service.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from drivers.camera.files import read_image_file
from firmware_app.config import parse_config
from firmware_app.lane.wiring import gate_layout
from firmware_app.status.client import query
from firmware_app.status.errors import StatusUnavailable
from simulator.gate_app_process import GateAppProcess, OwnProcess, ProcessUnavailable, console_script
from simulator.gate_link import GateLink, GateLinkDown
from simulator.local_process import wait_until
from simulator.officer_agent import OfficerAgent
from simulator.scenario_bench import DEVICE_ID, OFFICER, Bench, BenchUnavailable

# gate-app.service sets this on a device (tests/test_systemd_units.py keeps the two the same).
DEVICE_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2"}

READY_S = 120.0             # gate-app.service TimeoutStartSec
IN_SERVICE_S = 60.0
STATUS_S = 1.0
POWER_OFF, STARTING = "power_off", "starting"
UNDECIDED = {"document", "chip", "face", "decide", "officer_review", "passage"}   # no crossing stored yet
MAYBE_DECIDED = {"refer", "closing"}


class PhotoCamera:
    """What stands in front of gate-app's `dir://` camera: one image file, replaced atomically (the
    camera decodes the file at each frame); a plain grey frame when nobody is there."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.show(None)

    def show(self, photo: Path | None) -> None:
        self.show_image(read_image_file(photo) if photo is not None else np.full((480, 640, 3), 128, np.uint8))

    def show_image(self, image: np.ndarray) -> None:
        partial = self.folder / "live.part"     # not an image suffix: the camera never lists it
        Image.fromarray(np.ascontiguousarray(image[:, :, ::-1])).save(partial, format="PNG")   # BGR frames
        partial.replace(self.folder / "live.png")

    def stall(self, stalled: bool) -> None:
        if stalled:
            raise BenchUnavailable("camera_stall needs the in-process bench (gate-app reads files here)")


class RemoteAppliance:
    """The appliance as the bench sees it across the process boundary (what the runner and the
    fault timeline ask of the in-process Appliance)."""

    def __init__(self, bench: GateAppBench):
        self.bench = bench
        self.faults: list = []

    def lane_state(self) -> str:
        if not self.bench.powered:
            return POWER_OFF
        try:
            return str(query(self.bench.status_socket, timeout_s=STATUS_S).get("state", STARTING))
        except StatusUnavailable:       # booting: the socket file of the killed process answers nobody
            return STARTING


class GateAppBench(Bench):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run_dir = Path(tempfile.mkdtemp(prefix="gs-"))    # short: Unix socket paths (108 bytes)
        self.camera = PhotoCamera(self.workdir / "camera")
        self.status_socket = self.run_dir / "status.sock"
        self.safety_socket = self.run_dir / "safety.sock"
        self.config_path = self.workdir / "gate.toml"
        self.powered = False
        self.power_cuts = 0
        self.decided_before_cuts: set[str] = set()     # crossings in the outbox when the power went
        self.app: GateAppProcess | None = None
        self.app_env: dict[str, str] = dict(DEVICE_ENVIRONMENT)    # and a soak's GATE_APP_MEMTRACE
        self.safety: OwnProcess | None = None

    def start(self) -> None:
        password, text = self._start_services()
        self.config_path.write_text(text)
        (self.workdir / "ntp-synchronized").touch()     # the bench's NTP: timesyncd's marker file
        config = parse_config(text)
        self.gate = GateLink(self.safety_socket.with_name("safety.sock.sim"), gate_layout(config.gate))
        self.appliance = RemoteAppliance(self)
        self._power_on()
        assert self.app is not None             # made by _power_on
        self.app_ready_s = self.app.wait_ready(READY_S)
        self._await_ready()
        if config.officer.enabled:
            self.officer = OfficerAgent("127.0.0.1", self.officer_port, self.broker.pki.ca, OFFICER, password)

    def config_text(self, kiosk_port: int) -> str:
        text = super().config_text(kiosk_port)
        text = text.replace("[gate]\n", f'[gate]\npin_factory = "mock"\nurl = "safety://{self.safety_socket}"\n', 1)
        text = text.replace('[camera]\nurl = "sim://"\n',
                            f'[camera]\nurl = "sim://"\nsim_source = "dir://{self.workdir / "camera"}"\n', 1)
        text = text.replace("[clock]\n", f'[clock]\nkernel_sync = false\n'
                                          f'sync_marker = "{self.workdir / "ntp-synchronized"}"\n', 1)
        return text + f'[status]\nsocket = "{self.status_socket}"\n'

    def _power_on(self) -> None:
        """As systemd starts them at boot: gate-safety (Before=gate-app), then gate-app."""
        control = self.safety_socket.with_name("safety.sock.sim")
        control.unlink(missing_ok=True)
        if self.safety is None:
            self.safety = OwnProcess("gate-safety", console_script("gate-safety", "drivers.gate.safety") +
                                     ["--config", str(self.config_path)], self.workdir)
            self.app = GateAppProcess(self.config_path, self.workdir, self.run_dir / "notify", self.app_env)
        try:
            self.safety.start(until=control.exists)
            self.gate.reconnect()
            self.powered = True
            self.app.start()
        except ProcessUnavailable as exc:
            raise BenchUnavailable(str(exc)) from exc

    def links_up(self) -> bool:
        """In service for the BMIS: a request-status goes through and the lane answers idle."""
        correlation = self.consumer.send_command(DEVICE_ID, "request-status", {"params": {}},
                                                 signing_key=self.command_key)
        answer = self.consumer.wait_result(correlation, timeout_s=STATUS_S) or {}
        return answer.get("status") == "ack"

    def in_service(self) -> bool:
        return self.powered and self.appliance.lane_state() == "idle" and self.links_up()

    # --- a power cut ------------------------------------------------------------------------------
    def power_cut(self, spec, result, watch) -> None:
        """SIGKILL both processes, stay dark for_s, boot again; `result` gets what was seen. A
        transaction the cut interrupted must be voided and reported once (an exception event)."""
        state_at_cut, voided_before = self.appliance.lane_state(), self.voided_reports()
        self.powered = False
        self.app.kill()
        self.safety.kill()
        self.gate.drop()
        decided = self.crossings_in_outbox()
        self.decided_before_cuts |= decided
        result.notes.append(f"{len(decided)} crossings stored before the cut")
        watch(spec.for_s)
        booted = time.monotonic()
        self._power_on()
        released_at_boot = self._released()
        ready_s = self.app.wait_ready(READY_S)
        released_when_ready = self._released()
        if not wait_until(self.in_service, IN_SERVICE_S, 0.05):
            result.error = f"the lane did not come back in service (state {self.appliance.lane_state()})"
        result.in_service_s = time.monotonic() - booted
        result.notes.append(f"cut in {state_at_cut}; READY=1 after {ready_s:.1f}s")
        self._check_voided(result, state_at_cut, voided_before)
        if released_at_boot or released_when_ready:
            result.error = f"a door was released by the restart: {released_at_boot} / {released_when_ready}"
        self.power_cuts += 1
        watch(0.0)

    def voided_reports(self) -> int:
        return sum(m["data"].get("kind") == "transaction_voided"
                   for m in self.consumer.messages(kind="events/exception", device_id=DEVICE_ID))

    def _check_voided(self, result, state_at_cut: str, before: int) -> None:
        """Cut before its decision was stored, a transaction is voided and reported once; cut at
        rest, nothing is; cut in refer or closing, its crossing may already be stored (then the
        restart closes it as recorded, and reports nothing)."""
        wanted = 1 if state_at_cut in UNDECIDED else 0
        wait_until(lambda: self.voided_reports() - before >= wanted, IN_SERVICE_S / 4, 0.05)
        reported = self.voided_reports() - before
        result.notes.append(f"{reported} interrupted transaction(s) voided and reported")
        if reported > 1 or (state_at_cut not in MAYBE_DECIDED and reported != wanted):
            result.error = f"{reported} voided-transaction reports after a cut in state {state_at_cut}"

    def _released(self) -> list[str]:
        try:
            return list(self.gate.outputs()["released"])
        except GateLinkDown as exc:
            return [f"unknown ({exc})"]

    def crossings_in_outbox(self) -> set[str]:
        """The transactions whose crossing the gate had stored (pending or sent): read from its
        SQLite outbox while gate-app is down, as a technician would after a power cut."""
        from firmware_app.bmis.wiring import OUTBOX_FILE
        path = self.workdir / "var" / OUTBOX_FILE
        conn = sqlite3.connect(path, timeout=5.0)
        try:
            rows = conn.execute("SELECT txn_id FROM pending WHERE txn_id IS NOT NULL UNION "
                                "SELECT txn_id FROM sent WHERE txn_id IS NOT NULL").fetchall()
        finally:
            conn.close()
        return {row[0] for row in rows}

    def pending_at_gate(self) -> int:
        from firmware_app.bmis.outbox.storage import inspect_outbox
        from firmware_app.bmis.wiring import OUTBOX_FILE
        return int(inspect_outbox(self.workdir / "var" / OUTBOX_FILE, time.time())["pending"])

    def stop_appliance(self) -> int | None:
        """An orderly stop (SIGTERM, as systemctl stop): doors secured, the BMIS link drained."""
        return self.app.stop() if self.app is not None else None

    def stop(self) -> None:
        for process in (self.app, self.safety):
            if process is not None:
                process.stop()
        if self.app is not None:
            self.app.notify.close()
        if self.gate is not None:
            self.gate.close()
        saved, self.gate, self.appliance = self.gate, None, None   # not in-process parts: Bench.stop skips them
        try:
            super().stop()
        finally:
            self.gate = saved
            shutil.rmtree(self.run_dir, ignore_errors=True)


def delivery_of_process(bench: GateAppBench):
    """The delivery check when gate-app is its own process: wait until its outbox has nothing left
    to send (status socket), stop it as systemd does (SIGTERM: its offline status is queued and
    drained), then read what the consumer got and what the gate's outbox file still holds."""
    from simulator.scenario_cmd import DRAIN_S, received_by

    def drained() -> bool:
        try:
            outbox = query(bench.status_socket, timeout_s=STATUS_S).get("outbox") or {}
        except StatusUnavailable:
            return False
        return outbox.get("pending") == 0 and outbox.get("unreceipted") == 0
    wait_until(drained, DRAIN_S, 0.1)
    bench.stop_appliance()
    delivery = received_by(bench.consumer, bench.pending_at_gate)
    delivery.stored_before_cuts = frozenset(bench.decided_before_cuts)
    return delivery
