"""`gatectl selftest`: each part of the appliance checked on its own, without starting the lane.

Each check returns a CheckResult (ok / fail / skip with a reason). Nothing here talks MQTT: the
broker check is a TLS handshake with the gate's certificate, so a running gate-app's session at
the broker is never taken over. The gate check reads the inputs only (no relay is switched).
"""
from __future__ import annotations

import enum
import hashlib
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from drivers.errors import DriverError
from firmware_app.errors import GateError

from . import devices
from .errors import AssemblyError
from .parts import models_dir_of
from .timesync import ClockState, describe, probe_from_config

BROKER_TIMEOUT_S = 5.0


class Status(str, enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    authority: str | None = None    # one-stop lane: the role whose part this is (selftest_onestop.py)
    lane: str | None = None         # ... and, when it failed, what the lane does about it

    def as_dict(self) -> dict:
        fields = {key: value for key, value in asdict(self).items() if value is not None}
        return {**fields, "status": self.status.value}


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.OK, detail)


def fail(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail)


def simulated(name: str, url: str) -> CheckResult:
    """A simulated device is neither healthy nor broken: it is named as such, never hidden."""
    return CheckResult(name, Status.SKIP, f"skipped (simulated): {url}")


def overall(results: list[CheckResult]) -> Status:
    for status in (Status.FAIL, Status.WARN):
        if any(r.status is status for r in results):
            return status
    return Status.OK


def check_models(config, base_dir: Path) -> CheckResult:
    from firmware_app.face.models import load_manifest
    from firmware_app.face.verifier import build_verifier, pad_settings
    directory = models_dir_of(config, base_dir)
    started = time.monotonic()
    try:
        manifest = load_manifest(directory)
        hashes = [f"{role} {manifest.model_file(role).path.name} sha256:{manifest.model_file(role).sha256[:12]}"
                  for role in ("detector", "recognizer")]
        verifier = build_verifier(directory, config.face.threads, config.face.threshold,
                                  pad=pad_settings(config.face))   # hash-checked and warmed
    except GateError as exc:
        return fail("face models", f"{type(exc).__name__}: {exc}")
    pad = "PAD available" if verifier.pad.available else \
        f"PAD UNAVAILABLE ({_pad_skipped(verifier)}): crossings record pad=not_performed"
    return ok("face models", f"{'; '.join(hashes)}; {pad}; verified and warm in {time.monotonic() - started:.2f} s")


def check_pcsc(config) -> CheckResult:
    pattern = config.smartcard.reader.removeprefix("pcsc://")
    try:
        from drivers.smartcard.pcsc import find_reader
        reader = find_reader(pattern)
    except (DriverError, ImportError) as exc:
        return fail("chip reader", f"pcscd or reader {pattern!r} not reachable: {exc}")
    return ok("chip reader", f"pcscd reachable; reader {reader}")


def check_camera(config) -> CheckResult:
    if config.camera.url.startswith("sim://"):
        return simulated("camera", config.camera.url)
    try:
        camera = devices.open_camera(config)
    except AssemblyError as exc:
        return fail("camera", str(exc))
    try:
        frame = camera.read()
    except DriverError as exc:
        return fail("camera", f"no frame: {type(exc).__name__}: {exc}")
    finally:
        camera.close()
    height, width = frame.image.shape[:2]
    return ok("camera", f"{config.camera.url} delivered a {width}x{height} frame")


def check_gate(config) -> CheckResult:
    """Reads the inputs once: doors shut, emergency loop closed, no tamper, lane empty."""
    controller = devices.uses_safety_controller(config)
    if config.gate.pin_factory.value == "mock" and not controller:
        return simulated("gate inputs", "pin_factory = mock")
    try:
        if controller:      # read through the controller, which owns the pins (and logs if they are simulated)
            gate = devices.connect_safety_controller(config, lambda event: None, lambda: True, role="monitor")
        else:
            gate = devices.build_gate(config, devices.make_pin_factory(config), lambda event: None)
    except AssemblyError as exc:
        return fail("gate inputs", f"{exc} (is gate-app running and holding the pins, or gate-safety down?)")
    try:
        snapshot = gate.snapshot()
    finally:
        gate.close()
    problems = [f"door {d.value} open" for d in sorted(snapshot.doors_open, key=lambda d: d.value)]
    problems += ["emergency loop open"] * snapshot.emergency + ["tamper loop open"] * snapshot.tamper
    problems += [f"{snapshot.presence} presence zone(s) occupied"] if snapshot.presence else []
    if problems:
        return fail("gate inputs", "; ".join(problems))
    return ok("gate inputs", f"{config.gate.layout}: doors shut, emergency and tamper loops closed, lane empty")


def check_outbox(config, now: Callable[[], float] = time.time) -> CheckResult:
    """Read-only: opening the Outbox itself would count a boot (a selftest changes no state)."""
    from firmware_app.bmis.outbox.storage import inspect_outbox
    from firmware_app.bmis.wiring import OUTBOX_FILE
    data_dir = Path(config.device.data_dir)
    path = data_dir / OUTBOX_FILE
    if not path.exists():
        if os.access(data_dir if data_dir.exists() else data_dir.parent, os.W_OK):
            return ok("outbox", f"no outbox yet; {data_dir} writable")
        return fail("outbox", f"no outbox and {data_dir} not writable by this user")
    try:
        summary = inspect_outbox(path, now())
    except GateError as exc:
        return fail("outbox", f"{type(exc).__name__}: {exc}")
    return ok("outbox", f"{path}: {summary['pending']} pending, {summary['unreceipted']} unreceipted, "
                        f"{len(summary['dead_letters'])} dead letters")


def check_broker(config, connect: Callable = socket.create_connection) -> CheckResult:
    bmis = config.bmis
    if bmis.ca_file is None:
        return fail("broker", "bmis.ca_file is not set (the gate talks to the broker over TLS only)")
    try:
        context = ssl.create_default_context(cafile=str(bmis.ca_file))
        if bmis.cert_file is not None:
            context.load_cert_chain(str(bmis.cert_file), str(bmis.key_file))
        with (connect((bmis.host, bmis.port), timeout=BROKER_TIMEOUT_S) as raw,
              context.wrap_socket(raw, server_hostname=bmis.host) as tls):
            version = tls.version()
    except (OSError, ssl.SSLError) as exc:
        return fail("broker", f"{bmis.host}:{bmis.port} not reachable over TLS: {exc}")
    return ok("broker", f"{bmis.host}:{bmis.port} TLS handshake ok ({version}, client certificate "
                        f"{'sent' if bmis.cert_file else 'none'})")


def check_clock(config, probe: Callable[[], ClockState] | None = None) -> CheckResult:
    """Fails while the lane would refer everybody for an unsynchronised clock."""
    state = (probe or probe_from_config(config.clock))()
    result = ok if state.believable else fail
    return result("clock", describe(state))


def check_reader(config) -> CheckResult:
    url = config.reader.url
    if url.startswith("sim://"):
        return simulated("mrz reader", url)
    if url.startswith("/"):
        if not os.path.exists(url):
            return fail("mrz reader", f"{url} does not exist (plugged in? see /dev/serial/by-id/)")
        if not os.access(url, os.R_OK | os.W_OK):
            return fail("mrz reader", f"{url} not readable and writable by this user (group dialout?)")
        return ok("mrz reader", f"{url} present")
    return CheckResult("mrz reader", Status.SKIP, f"not probed: {url} is not a local device")


def run_checks(config, base_dir: Path = Path(".")) -> list[CheckResult]:
    from .selftest_identity import check_client_certificate
    from .selftest_officer import check_officer_console
    checks = [lambda: check_models(config, base_dir), lambda: check_reader(config), lambda: check_pcsc(config),
              lambda: check_camera(config), lambda: check_gate(config)]
    if config.authority:        # a one-stop lane: each authority's own outbox, link, trust store, officers
        from .selftest_onestop import authority_checks
        checks += [*authority_checks(config), lambda: check_clock(config)]
    else:
        checks += [lambda: check_outbox(config), lambda: check_broker(config),
                   lambda: check_client_certificate(config), lambda: check_clock(config),
                   lambda: check_officer_console(config)]
    return [_guarded(check) for check in checks]


def _guarded(check: Callable[[], CheckResult]) -> CheckResult:
    try:
        return check()
    except Exception as exc:  # a selftest reports every check; a crash in one is its failure
        name = getattr(check, "__name__", "check")
        return fail(name, f"unexpected {type(exc).__name__}: {exc}")


def config_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _pad_skipped(verifier) -> str:
    skipped = verifier.pad.assess(None, None).skipped
    return skipped.value if skipped is not None else "unknown"
