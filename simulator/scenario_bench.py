"""The test bench around the REAL assembled appliance: every device simulated, every service real.

    with Bench(workdir, faces_dir) as bench:     # pcscd + vpcd, mosquitto (TLS, ACL), BMIS consumer,
        bench.appliance.runner ...               # reader pty, scene camera, MockFactory gate walked
                                                 # by a GateSimulator; the appliance from a config file
The appliance is built by firmware_app.appliance exactly as gate-app builds it; the only things
handed in are the simulated pin factory and camera (named as simulated in its log).
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import subprocess
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.gate.sim import GateSimulator
from firmware_app.appliance.core import Appliance, Overrides
from firmware_app.appliance.timesync import ClockState
from firmware_app.bmis.commands.signing import public_key_pem
from firmware_app.bmis.mqtt_client import MqttSettings
from firmware_app.config import parse_config
from firmware_app.lane.wiring import gate_layout
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_consumer import BmisConsumer
from simulator.bmis_pki import make_test_pki
from simulator.fault_commands import second_pki
from simulator.local_process import free_port, wait_until
from simulator.officer_agent import OfficerAgent
from simulator.passport_factory import build_pki
from simulator.reader import SimulatedReader
from simulator.scenario_camera import SceneCamera
from simulator.scenario_post import PostRules, alert_lists_text, policy_text
from simulator.timing import TimingModel
from simulator.vchip.pcscd import PcscdProcess, PcscdUnavailable, other_pcscd_running
from simulator.vchip.vpcd import DEFAULT_PORT as VPCD_DEFAULT_PORT

log = logging.getLogger("gatesim.bench")
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEVICE_ID = "gate-demo-01"
PREFIX = "gates"


class BenchUnavailable(RuntimeError):
    """A service the bench needs (pcscd + vpcd, mosquitto, the faces) is not on this machine."""


POLICY_HANG_MAX_S = 120.0   # a policy_hang fault's longest for_s (simulator/faults.py MAX_FOR_S)
OFFICER = "officer-sim"
OFFICER_S = 4.0     # short: an unanswered assisted-mode traveller is referred after this


def bench_config_text(workdir: Path, broker: MosquittoBroker, kiosk_port: int, framing: str, pad: bool = True,
                      officer_port: int | None = None, chip_reader: str = "pcsc://Virtual PCD 00 00",
                      post: PostRules | None = None) -> str:
    """With `officer_port`: the officer console too, on 127.0.0.1 with the broker CA's server pair;
    `post`: a scenario's [post] rules (PAD required switches PAD on, whatever `pad` says)."""
    pad_required = post is not None and post.pad_required
    pair = broker.pki.devices[DEVICE_ID]
    return f"""
[device]
id = "{DEVICE_ID}"
post_id = "post-demo"
data_dir = "{workdir / 'var'}"
[reader]
url = "sim://"
framing = "{framing}"
[smartcard]
reader = "{chip_reader}"
csca_dir = "{workdir / 'csca'}"
[camera]
url = "sim://"
[face]
models_dir = "{PROJECT_ROOT / 'models'}"
[face.pad]
enabled = {'true' if pad or pad_required else 'false'}
required = {'true' if pad_required else 'false'}
[gate]
presence = [24, 26]     # two zones: the bench can put a tailgater in the lane
[lane]
document_s = 5.0
enter_s = 5.0
exit_s = 5.0
tailgate_s = 5.0
refer_s = 10.0
officer_s = {OFFICER_S}
[bmis]
host = "127.0.0.1"
port = {broker.device_port}
prefix = "{PREFIX}"
ca_file = "{broker.pki.ca}"
cert_file = "{pair.cert}"
key_file = "{pair.key}"
keepalive_s = 5
reconnect_min_s = 0.1
reconnect_max_s = 1.0
retry_delay_s = 0.2
command_keys_dir = "{workdir / 'bmis-keys'}"
{alert_lists_text(post)}[kiosk]
port = {kiosk_port}
[clock]
recheck_s = 0.5         # a scenario's clock faults show within a traveller
""" + policy_text(post) + (officer_config_text(workdir, broker, officer_port) if officer_port is not None else "")


def officer_config_text(workdir: Path, broker: MosquittoBroker, port: int) -> str:
    server = broker.pki.server
    return f"""[officer]
enabled = true
bind = "127.0.0.1"
port = {port}
cert_file = "{server.cert}"
key_file = "{server.key}"
credential_file = "{workdir / 'officers'}"
"""


def write_trust_files(directory: Path, files: dict[str, bytes]) -> None:
    """Trust anchors with the modes `gatectl config check` asks for, whatever the umask."""
    directory.mkdir(exist_ok=True)
    directory.chmod(0o755)
    for name, data in files.items():
        (directory / name).write_bytes(data)
        (directory / name).chmod(0o644)


class Bench:
    def __init__(self, workdir: Path, faces_dir: Path, *, vpcd_port: int | None = None, framing: str = "cute",
                 seed: int = 7, pad: bool = True, timing: TimingModel | None = None, slot: int = 0,
                 pcscd: PcscdProcess | None = None, post: PostRules | None = None):
        self.workdir, self.faces_dir, self.framing = Path(workdir), Path(faces_dir), framing
        self.timing = timing      # real device timing (simulator/timing.py); None: devices as fast as they go
        self.lent_pcscd = pcscd   # the caller's own pcscd on vpcd_port: faults may restart it, stop leaves it
        self.slot = slot          # the vpcd reader slot (a pcscd's vpcd has two: two lanes share one pcscd)
        self.chip_reader = f"pcsc://Virtual PCD 00 {slot:02d}"
        self.rng = random.Random(seed)
        self.post = post    # a scenario's [post] rules, written into the appliance's config
        self.pad = pad      # False only for the bundled portraits (photos of photos: PAD rightly flags them)
        self._vpcd_port = vpcd_port
        self.now = dt.datetime.now(dt.UTC)
        self.pcscd = self.broker = self.consumer = self.appliance = self.gate = None
        self.reader = SimulatedReader(framing, self.rng, link_path=self.workdir / "var" / "sim-reader")
        self.camera = SceneCamera(**({"frame_interval_s": timing.frame_interval_s, "exposure_s": timing.exposure_s}
                                     if timing else {}))
        self.command_key = Ed25519PrivateKey.generate()
        self.passport_pki = build_pki("gatesim-demo", self.now)
        self.new_passport_pki = second_pki(self.now)    # the CSCA a csca_update fault pushes
        self.clock_state = ClockState.SYNCHRONISED   # the bench's NTP state; a scenario may unset it
        self.officer = None         # OfficerAgent: the officer signed in on the console (assisted mode)
        self.officer_port: int | None = None
        self.clock_offset = dt.timedelta(0)          # the appliance's wall clock minus the real one (clock steps)
        self._policy_free = threading.Event()        # cleared while a policy_hang fault lasts
        self._policy_free.set()

    # --- life cycle ----------------------------------------------------------------------------
    def __enter__(self) -> Bench:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        password, text = self._start_services()
        config = parse_config(text)
        from gpiozero.pins.mock import MockFactory  # the bench's gate pins (gpiozero's own fake)
        factory = MockFactory()
        swing = {"swing_s": self.timing.door_motor_s} if self.timing else {}
        self.gate = GateSimulator(factory, gate_layout(config.gate), **swing)
        overrides = Overrides(pin_factory=factory, camera=self.camera, clock_probe=lambda: self.clock_state,
                              decision_hook=self._policy_gate, rest_pins=self.gate.quiet)
        self.appliance = Appliance(config, clock=self._wall_clock, overrides=overrides, base_dir=PROJECT_ROOT).build()
        self.gate.start()                      # doors follow their relays; loops closed, lane empty
        self.appliance.start()
        self._await_ready()
        if config.officer.enabled:
            self.officer = OfficerAgent("127.0.0.1", self.officer_port, self.broker.pki.ca, OFFICER, password)

    def _start_services(self) -> tuple[str, str]:
        """What every bench starts before the appliance: pcscd, the BMIS, trust files, the officer's
        password and the reader. Returns that password and the appliance's config text."""
        if not self.faces_dir.is_dir():
            raise BenchUnavailable(f"face photos not found at {self.faces_dir} (pass --faces DIR)")
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        self._start_pcscd()
        self._start_bmis()
        self._write_trust_files()
        password = self._officer_password()
        self.reader.open()
        self.officer_port = free_port()
        return password, self.config_text(free_port())

    def hang_policy(self, hung: bool) -> None:
        """policy_hang: decisions block (on the lane's decision worker) until released."""
        self._policy_free.clear() if hung else self._policy_free.set()

    def _policy_gate(self) -> None:
        self._policy_free.wait(POLICY_HANG_MAX_S)

    def config_text(self, kiosk_port: int) -> str:
        return bench_config_text(self.workdir, self.broker, kiosk_port, self.framing, self.pad, self.officer_port,
                                 self.chip_reader, self.post)

    def _wall_clock(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.clock_offset

    def _start_pcscd(self) -> None:
        if self._vpcd_port is not None:
            self.vpcd_port = self._vpcd_port + self.slot    # vpcd listens on its port and the next one
            return
        if other_pcscd_running():
            # the system's pcscd (socket-activated on Debian) with vsmartcard's reader on its default port
            log.warning("using the running system pcscd and its vpcd port %d", VPCD_DEFAULT_PORT)
            self.vpcd_port = VPCD_DEFAULT_PORT
            return
        try:
            self.pcscd = PcscdProcess(self.workdir / "pcsc").start()
        except PcscdUnavailable as exc:
            raise BenchUnavailable(str(exc)) from exc
        self.vpcd_port = self.pcscd.port

    def _start_bmis(self) -> None:
        pki = make_test_pki(self.workdir / "mqtt-pki", [DEVICE_ID])
        try:
            self.broker = MosquittoBroker(self.workdir / "broker", pki, prefix=PREFIX).start()
        except (BrokerUnavailable, OSError, subprocess.CalledProcessError) as exc:
            raise BenchUnavailable(f"mosquitto: {exc}") from exc
        ep = self.broker.endpoints
        settings = MqttSettings(host=ep.host, port=ep.bmis_port, client_id="bmis-demo", ca_file=ep.ca_file,
                                username=ep.bmis_user, password=ep.bmis_password, keepalive_s=5,
                                reconnect_min_s=0.1, reconnect_max_s=0.5)
        self.consumer = BmisConsumer(self.workdir / "bmis-consumer.db", settings, prefix=PREFIX)
        self.consumer.start()

    def _write_trust_files(self) -> None:
        keys, csca = self.workdir / "bmis-keys", self.workdir / "csca"
        write_trust_files(keys, {"bmis-demo.pem": public_key_pem(self.command_key.public_key())})
        write_trust_files(csca, {"csca-demo.der": self.passport_pki.csca.der})
        if self.passport_pki.crl:
            (csca / "csca-demo.crl").write_bytes(self.passport_pki.crl)

    def _officer_password(self) -> str:
        from firmware_app.officer import OfficerStore
        password = secrets.token_urlsafe(18)
        OfficerStore(self.workdir / "officers").add(OFFICER, password)
        return password

    def _await_ready(self) -> None:
        checks = [("the reader port", lambda: self.reader.reader_attached()),
                  ("the BMIS consumer", lambda: self.consumer.listening),
                  ("the gate's BMIS link", self.links_up),
                  ("the lane", lambda: self.appliance.lane_state() == "idle")]
        for what, check in checks:
            if not wait_until(check, 15.0, poll_s=0.02):
                raise BenchUnavailable(f"{what} did not come up (lane state {self.appliance.lane_state()}; "
                                       f"faults: {[str(e) for _, e in self.appliance.faults]})")

    def links_up(self) -> bool:
        """Subscribed, not only connected: a command sent before the SUBACK is lost (not retained)."""
        link = self.appliance.bmis.link     # None: the BMIS side could not be built
        return link is not None and link.listening

    def stop(self) -> None:
        self.camera.stall(False)      # a stalled camera must not hold the appliance's capture thread
        self.hang_policy(False)       # nor a policy_hang fault its decision worker
        for part, action in ((self.appliance, "stop"), (self.gate, "stop"), (self.reader, "close"),
                             (self.consumer, "stop"), (self.broker, "stop"), (self.pcscd, "stop")):
            if part is not None:
                try:
                    getattr(part, action)()
                except Exception as exc:  # tear everything down even when one part is broken
                    log.warning("bench stop: %s.%s failed: %s", type(part).__name__, action, exc)

    def power_cut(self, spec, result, watch) -> None:
        raise BenchUnavailable("power_cut needs the appliance as its own gate-app process "
                               "(simulator/gate_app_bench.py, chosen for scenarios with a power_cut)")

    # --- BMIS operator -------------------------------------------------------------------------
    def set_mode(self, mode: str) -> dict | None:
        """The BMIS switches the lane's mode through a signed command; returns the result."""
        correlation = self.consumer.send_command(DEVICE_ID, "set-mode", {"params": {"mode": mode},
                                                                         "operator_id": "bmis-demo"},
                                                 signing_key=self.command_key)
        return self.consumer.wait_result(correlation, timeout_s=10.0)

    def push_alert_list(self, entries: list[dict], version: int) -> dict | None:
        """The BMIS replaces the stolen-document list through a signed command; returns the result."""
        params = {"list_id": "sltd", "kind": "document", "version": version, "entries": entries}
        correlation = self.consumer.send_command(DEVICE_ID, "alerts-replace", {"params": params},
                                                 signing_key=self.command_key)
        return self.consumer.wait_result(correlation, timeout_s=10.0)
