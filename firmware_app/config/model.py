"""The configuration model. Every section forbids unknown keys so a typo never passes silently.

Devices are chosen by URL; a simulated backend is only ever used when its URL says `sim`.
"""
from __future__ import annotations

import ipaddress
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .identity import IdentitySection


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Direction(str, Enum):
    ENTRY = "entry"
    EXIT = "exit"


class DeviceSection(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    post_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    direction: Direction = Direction.ENTRY
    data_dir: Path = Path("var")


class Framing(str, Enum):
    CUTE = "cute"
    RTE = "rte"
    LINES = "lines"


class RteBccScope(str, Enum):
    """Bytes the 3M RTE block check covers; 3M: from the first length byte through ETX."""

    AFTER_SOH = "after_soh"
    FROM_SOH = "from_soh"
    AFTER_STX = "after_stx"


class RteLengthScope(str, Enum):
    AFTER_LENGTH = "after_length"
    BLOCK = "block"
    UNCHECKED = "unchecked"


class RteMode(str, Enum):
    NATIVE = "native"
    INTERRUPT = "interrupt"
    POLLED = "polled"


class CuteDelimiters(str, Enum):
    FS_GS = "fs_gs"
    SO_SI = "so_si"
    DIRECT = "direct"
    CUSTOM = "custom"


class Parity(str, Enum):
    NONE = "none"
    EVEN = "even"
    ODD = "odd"
    MARK = "mark"
    SPACE = "space"


# RTE interrupt and polled modes wait for an Enable command after every read; the driver does not
# send one, so a reader left in them would read one passport and then fall silent.
_RTE_MODE_REFUSED = ("rte_mode {mode!r} is not supported: the reader waits for an Enable command "
                     "after each read, which this driver does not send; set the reader to RTE native "
                     "(3M test card) and rte_mode = 'native'")
_CONTROL_BYTE = Annotated[int, Field(ge=0x00, le=0x1F)]


class ReaderSection(Strict):
    url: str = Field(description="pyserial URL or device path; 'sim://' for the simulated reader")
    framing: Framing = Framing.CUTE
    baudrate: int = Field(default=9600, gt=0)
    bytesize: Literal[7, 8] = 8
    parity: Parity = Parity.NONE
    stopbits: Literal[1, 1.5, 2] = 1  # type: ignore[valid-type]  # pydantic checks the float; mypy's Literal cannot
    check_bcc: bool = True
    line_timeout_s: float = Field(default=0.3, gt=0, le=10)
    reconnect_min_s: float = Field(default=0.2, gt=0)
    reconnect_max_s: float = Field(default=5.0, gt=0)
    rte_mode: RteMode = RteMode.NATIVE
    rte_use_bcc: bool = True
    rte_bcc_scope: RteBccScope = RteBccScope.AFTER_SOH
    rte_length_scope: RteLengthScope = RteLengthScope.AFTER_LENGTH
    cute_delimiters: CuteDelimiters = CuteDelimiters.FS_GS
    cute_open: _CONTROL_BYTE | None = None
    cute_close: _CONTROL_BYTE | None = None
    max_frame_bytes: int = Field(default=512, ge=64, le=65536)

    @model_validator(mode="after")
    def _backoff_bounds_ordered(self) -> ReaderSection:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self

    @model_validator(mode="after")
    def _rte_mode_supported(self) -> ReaderSection:
        if self.framing is Framing.RTE and self.rte_mode is not RteMode.NATIVE:
            raise ValueError(_RTE_MODE_REFUSED.format(mode=self.rte_mode.value))
        return self

    @model_validator(mode="after")
    def _cute_delimiters_consistent(self) -> ReaderSection:
        given = [b for b in (self.cute_open, self.cute_close) if b is not None]
        if given and self.cute_delimiters is not CuteDelimiters.CUSTOM:
            raise ValueError("cute_open/cute_close are only read with cute_delimiters = 'custom'")
        if {0x02, 0x03, 0x0A, 0x0D} & set(given):
            raise ValueError("cute_open/cute_close cannot be STX, ETX, CR or LF")
        if len(given) == 2 and given[0] == given[1]:
            raise ValueError("cute_open and cute_close must differ")
        return self


class MrzSection(Strict):
    expiry_future_years: int = Field(default=20, ge=1, le=50)   # further ahead: expiry_far_future warning
    expired_grace_days: int = Field(default=0, ge=0)
    ocr_repair: bool = True
    # substitutions one OCR repair may make; a forced fix alone in a field with its own check digit
    # (confirmed by that digit) does not count
    max_repairs: int = Field(default=2, ge=0, le=4)


class SmartcardSection(Strict):
    reader: str = Field(default="pcsc://Virtual PCD 00 00",
                        description="pcsc://<reader name pattern>; a pattern naming several readers is refused")
    csca_dir: Path = Path("config/csca")
    master_list: Path | None = None
    master_list_roots: list[Path] = Field(
        default_factory=list, max_length=32,
        description="certificate files a master list's signer may chain to, besides the CSCA files in csca_dir")
    read_timeout_s: float = Field(default=10.0, gt=0, le=120,
                                  description="wall-time budget of one whole chip read (stopped between APDUs); "
                                              "must end before lane.chip_s")
    min_read_block: int = Field(default=32, ge=8, le=223,
                                description="APDU budget per file: one READ BINARY per this many bytes of its "
                                            "announced size, plus a few (a chip answering 1 byte per read is refused)")
    require_pace: bool = Field(default=False,
                               description="a chip that offers PACE but fails it is not read with BAC: the read "
                                           "fails and the traveller is referred (false: BAC, recorded as "
                                           "PACE_FAILED_FALLBACK)")


class CameraSection(Strict):
    url: str = "sim://"
    width: int = Field(default=640, gt=0)
    height: int = Field(default=480, gt=0)
    stall_timeout_s: float = Field(default=1.0, gt=0)
    sim_source: str | None = Field(default=None, description="what 'sim://' shows: a file://, dir:// or video:// URL")
    # picamera2 only (drivers/camera/picamera2_config.py says why each exists)
    sensor_mode: int | None = Field(default=None, ge=0,
                                    description="Picamera2.sensor_modes index; unset: full field of view")
    max_exposure_ms: float = Field(default=50.0, ge=1, le=1000, description="longest frame, bounds auto-exposure")
    exposure_ms: float | None = Field(default=None, gt=0, le=1000, description="fixed exposure instead of auto")
    analogue_gain: float | None = Field(default=None, ge=1, le=16, description="fixed analogue gain instead of auto")

    @model_validator(mode="after")
    def _exposure_within_limit(self) -> CameraSection:
        if self.exposure_ms is not None and self.exposure_ms > self.max_exposure_ms:
            raise ValueError("exposure_ms must not exceed max_exposure_ms")
        return self


class PadSection(Strict):
    """Presentation attack detection (MiniFASNet pair, models/manifest.json `pad`)."""
    enabled: bool = True
    # required: without the PAD models the lane stays out of service, and a crossing whose PAD
    # could not be performed is referred. Not required: `pad: not_performed` is recorded as is.
    required: bool = False
    live_threshold: float | None = Field(default=None, gt=0, lt=1)   # None: the manifest's

    @model_validator(mode="after")
    def _required_needs_enabled(self) -> PadSection:
        if self.required and not self.enabled:
            raise ValueError("face.pad.required = true needs face.pad.enabled = true")
        return self


class FaceSection(Strict):
    models_dir: Path = Path("models")
    threshold: float | None = Field(default=None, ge=-1, le=1)
    attempts: int = Field(default=3, ge=1, le=10)
    budget_s: float = Field(default=6.0, gt=0)
    threads: int = Field(default=2, ge=1, le=16)
    pad: PadSection = PadSection()


class PinFactory(str, Enum):
    MOCK = "mock"
    LGPIO = "lgpio"
    RPIGPIO = "rpigpio"


class DoorFailMode(str, Enum):
    FAIL_SECURE = "fail_secure"     # locked without power (relay energised = released)
    FAIL_SAFE = "fail_safe"         # released without power (maglock; relay energised = locked)


GpioPin = Annotated[int, Field(ge=0, le=53)]


class DoorPinsSection(Strict):
    relay: GpioPin
    closed_sensor: GpioPin = Field(description="contact to ground, closed when the door is shut")
    fail_mode: DoorFailMode = DoorFailMode.FAIL_SECURE
    relay_active_high: bool | None = Field(
        default=None, description="the relay board energises on a high pin; required with real pins "
                                  "(check with `gatectl gate check --pulse DOOR` watching the door)")


class GateSection(Strict):
    """BCM pin numbers. Contacts switch to ground (pull-ups on). The emergency and tamper inputs
    are normally-closed loops: an open loop or a cut wire means emergency / tamper."""

    pin_factory: PinFactory = PinFactory.MOCK
    url: str = Field(default="gpio://", pattern=r"^(gpio://|safety:///[^\x00]{1,100})$",
                     description="gpio:// drives the pins in gate-app; safety:///path/to.sock talks to "
                                 "the gate-safety controller, the only owner of the door I/O")
    heartbeat_s: float = Field(default=0.2, gt=0, le=5, description="gate-app -> controller heartbeat")
    silence_timeout_s: float = Field(default=1.0, gt=0, le=30,
                                     description="controller: no heartbeat this long = appliance lost, safe stance")
    layout: str = Field(default="mantrap", pattern="^(barrier|mantrap)$")
    entry: DoorPinsSection = DoorPinsSection(relay=17, closed_sensor=27)
    exit: DoorPinsSection = Field(default=DoorPinsSection(relay=22, closed_sensor=23),
                                  description="mantrap only; a barrier layout ignores it")
    presence: list[GpioPin] = Field(default_factory=lambda: [24], min_length=1, max_length=8)
    presence_nc: list[GpioPin] = Field(
        default_factory=list, max_length=8,
        description="supervised presence: each zone's NC contact (closed when the zone is empty), in the "
                    "order of presence; a cut or stuck sensor is then a fault instead of 'nobody inside'")
    presence_grace_s: float = Field(default=0.3, gt=0, le=5,
                                    description="a NO/NC mismatch lasting this long is a sensor fault")
    emergency: GpioPin = 25
    tamper: GpioPin | None = 5
    light: GpioPin | None = None
    buzzer: GpioPin | None = None
    bounce_time_s: float | None = Field(default=0.02, ge=0, le=1)

    @model_validator(mode="after")
    def _pins_distinct(self) -> GateSection:
        doors = [self.entry] + ([self.exit] if self.layout == "mantrap" else [])
        pins = [p for d in doors for p in (d.relay, d.closed_sensor)] + list(self.presence) + [self.emergency]
        pins += list(self.presence_nc)
        pins += [p for p in (self.tamper, self.light, self.buzzer) if p is not None]
        if len(pins) != len(set(pins)):
            raise ValueError("a GPIO pin is used twice")
        if self.pin_factory is not PinFactory.MOCK:
            unset = [name for name, door in (("entry", self.entry), ("exit", self.exit))
                     if door.relay_active_high is None and (name == "entry" or self.layout == "mantrap")]
            if unset:
                raise ValueError(f"relay_active_high must be set for real pins (door {', '.join(unset)}): "
                                 "true if a high pin energises the relay; many boards are active low")
        if self.presence_nc and len(self.presence_nc) != len(self.presence):
            raise ValueError("presence_nc needs one NC contact per presence zone, in the same order")
        if self.silence_timeout_s < 3 * self.heartbeat_s:
            raise ValueError("silence_timeout_s must be at least 3 heartbeats")
        return self


class LaneSection(Strict):
    """Transaction timeouts (seconds) and retries; every wait of the lane has one."""

    document_s: float = Field(default=10.0, gt=0, le=300)
    chip_s: float = Field(default=15.0, gt=0, le=300)
    face_s: float = Field(default=12.0, gt=0, le=300)
    decision_s: float = Field(default=5.0, gt=0, le=300)
    officer_s: float = Field(default=60.0, gt=0, le=3600)
    enter_s: float = Field(default=15.0, gt=0, le=300)
    exit_s: float = Field(default=20.0, gt=0, le=300)
    tailgate_s: float = Field(default=20.0, gt=0, le=300)
    refer_s: float = Field(default=30.0, gt=0, le=3600)
    held_open_s: float = Field(default=8.0, gt=0, le=300)
    retreat_s: float = Field(default=20.0, gt=0, le=300,
                             description="after a fault in a mantrap: how long the entry stays released "
                                         "for somebody inside to step back when nobody is sensed")
    override_hold_s: float = Field(default=60.0, gt=0, le=3600,
                                   description="doors opened by a BMIS officer override are secured again "
                                               "after this (never-trapped rule applies)")
    more_time_limit: int = Field(default=2, ge=0, le=5, description="kiosk 'more time' presses honoured per wait")
    stall_s: float = Field(default=5.0, gt=0, le=120,
                           description="watchdog: an event taking longer than this means the lane loop is stuck")
    stage_grace_s: float = Field(default=10.0, gt=0, le=300,
                                 description="watchdog: a stage worker still running this long after its "
                                             "timeout is hung (its device is taken out of service)")
    gate_probe_s: float = Field(default=2.0, gt=0, le=60,
                                description="while the gate driver is faulted, how often it is tried again")
    document_attempts: int = Field(default=3, ge=1, le=10)
    face_rounds: int = Field(default=2, ge=1, le=5)
    mode: str = Field(default="normal", pattern="^(normal|assisted|registration_only|closed)$",
                      description="mode at start; the BMIS or gatectl may change it at run time")


class PolicySection(Strict):
    minor_age: int = Field(default=18, ge=0, le=30)
    eligible_nationalities: list[Annotated[str, Field(pattern=r"^[A-Z][A-Z<]{2}$")]] = Field(
        default_factory=list, description="ICAO nationality codes allowed in this lane; empty: all")
    allow_offline: bool = True


class BmisSection(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8883, gt=0, lt=65536)
    prefix: str = "gates"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                  description="defaults to device.id (and must match the certificate CN)")
    keepalive_s: int = Field(default=30, ge=5, le=600)
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    reconnect_min_s: float = Field(default=1.0, gt=0)
    reconnect_max_s: float = Field(default=60.0, gt=0)
    max_inflight: int = Field(default=32, ge=1, le=100)
    retry_no_subscribers: bool = True
    retry_delay_s: float = Field(default=5.0, gt=0)
    outbox_max_messages: int = Field(default=100_000, ge=100)
    outbox_max_mb: int = Field(default=256, ge=1)
    outbox_max_age_h: float = Field(default=168.0, gt=0)
    outbox_min_free_mb: int = Field(default=64, ge=1, description="events are refused below this free disk space")
    health_interval_s: float = Field(default=60.0, ge=1)
    require_receipts: bool = Field(
        default=True, description="keep each record until the BMIS receipts it (false: a PUBACK is enough)")
    receipt_timeout_s: float = Field(
        default=300.0, ge=1, le=7 * 24 * 3600, description="re-send a record left unreceipted this long")
    ack_timeout_s: float = Field(
        default=60.0, ge=1, le=3600, description="no PUBACK this long on a live connection: alarm and reconnect")
    # Commands from the BMIS (firmware_app/bmis/commands.py)
    command_keys_dir: Path = Field(default=Path("config/bmis-keys"),
                                   description="trust store: PEM Ed25519 public keys of the BMIS")
    command_max_lifetime_s: int = Field(default=24 * 3600, ge=60, le=7 * 24 * 3600)
    command_clock_skew_s: int = Field(default=300, ge=0, le=3600)
    command_max_payload_mb: int = Field(default=16, ge=1, le=256)
    alert_required_lists: list[str] = Field(
        default_factory=list, description="alert lists that must be loaded, else travellers are referred")
    alert_max_age_h: float | None = Field(
        default=None, gt=0, description="a required list not updated for this long counts as unavailable")

    @model_validator(mode="after")
    def _bmis_settings_consistent(self) -> BmisSection:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


from .onestop import AuthoritySection, OnestopSection, check_authorities, check_own_trust_stores  # noqa: E402  (needs BmisSection)
from .onestop_people import check_people  # noqa: E402


class ClockSection(Strict):
    """Whether the date can be believed: a Pi has no RTC, and expiry, command lifetimes and
    certificates depend on it. Until the clock is synchronised the lane refers every traveller."""

    trusted: bool = Field(default=False, description="a post with a GPS or battery RTC clock: "
                          "declare the clock trusted without NTP")
    sync_marker: Path = Field(default=Path("/run/systemd/timesync/synchronized"),
                              description="systemd-timesyncd touches this file once synchronised")
    kernel_sync: bool = Field(default=True, description="also believe the kernel's NTP state (what "
                              "timedatectl shows as NTPSynchronized; chrony and ntpd set it)")
    recheck_s: float = Field(default=5.0, gt=0, le=300, description="how long one answer is kept")


LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]


class KioskSection(Strict):
    """Traveller screens; the page is always served on 127.0.0.1 only."""

    port: int = Field(default=8080, gt=0, lt=65536)
    default_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    languages: list[LanguageCode] = Field(
        default_factory=lambda: ["en", "fr", "es", "ar", "ru", "zh"], min_length=1,
        description="languages offered, in the order of the buttons; each needs a translation file")
    follow_nationality: bool = Field(default=True, description="default to the document nationality's language")
    max_clients: int = Field(default=4, ge=1, le=32, description="open pages (event streams) at once")
    idle_language_reset_s: float = Field(default=60.0, gt=0, le=3600,
                                         description="a language chosen at the welcome screen lapses after this "
                                                     "idle time")
    token_file: Path | None = Field(
        default=None,
        description="per-boot token of the kiosk browser (on /run); unset: a new one in memory each start")
    audio_dir: Path | None = Field(
        default=None, description="spoken prompts made by `gatectl kiosk audio` (espeak-ng); unset: no audio")
    token_group: str | None = Field(
        default=None, pattern=r"^[a-z_][a-z0-9_-]{0,31}$",
        description="group that may read token_file (the kiosk user's)")

    @model_validator(mode="after")
    def _default_is_offered(self) -> KioskSection:
        if self.default_language not in self.languages:
            raise ValueError("default_language must be one of languages")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("languages must not repeat")
        return self


class OfficerSection(Strict):
    """The officer console for ASSISTED mode: an HTTPS page on the post LAN (firmware_app/officer)."""

    enabled: bool = Field(default=False, description="serve the console (without it every assisted-mode "
                          "traveller is referred after lane.officer_s)")
    bind: str = Field(default="127.0.0.1", description="IP address to listen on: the gate's post-LAN address")
    port: int = Field(default=8443, gt=0, lt=65536, description="TCP port of the console (HTTPS only)")
    cert_file: Path | None = Field(default=None, description="PEM certificate (chain) the console presents")
    key_file: Path | None = Field(default=None, description="its PEM private key (0600, owned by the gate user)")
    credential_file: Path = Field(default=Path("/etc/border-gate/officers"),
                                  description="officer passwords, written by `gatectl officer add`")
    session_s: float = Field(default=8 * 3600.0, ge=60, le=24 * 3600, description="a login lasts this long")
    max_failures: int = Field(default=5, ge=1, le=100, description="wrong passwords that lock an officer id")
    lockout_s: float = Field(default=300.0, gt=0, le=24 * 3600,
                             description="how long a locked officer id stays locked (counted from the last failures)")
    audit_file: Path | None = Field(default=None, description="SQLite audit of logins and decisions; "
                                    "unset: officer-audit.db in device.data_dir")

    @model_validator(mode="after")
    def _tls_when_enabled(self) -> OfficerSection:
        try:
            ipaddress.ip_address(self.bind)
        except ValueError:
            raise ValueError("officer.bind must be an IP address") from None
        if self.enabled and (self.cert_file is None or self.key_file is None):
            raise ValueError("officer.enabled needs cert_file and key_file (the console is HTTPS only)")
        return self
AuthoritySection.model_rebuild(_types_namespace={"BmisSection": BmisSection, "OfficerSection": OfficerSection})

# The field-operation sections build on Strict (defined above); imported here to avoid a cycle.
from .operations import MetricsSection, StatusSection, UpdateSection  # noqa: E402


class GateConfig(Strict):
    device: DeviceSection
    reader: ReaderSection
    mrz: MrzSection = MrzSection()
    smartcard: SmartcardSection = SmartcardSection()
    camera: CameraSection = CameraSection()
    face: FaceSection = FaceSection()
    gate: GateSection = GateSection()
    lane: LaneSection = LaneSection()
    policy: PolicySection = PolicySection()
    bmis: BmisSection = BmisSection()
    kiosk: KioskSection = KioskSection()
    clock: ClockSection = ClockSection()
    identity: IdentitySection = IdentitySection()
    officer: OfficerSection = OfficerSection()
    update: UpdateSection = UpdateSection()
    status: StatusSection = StatusSection()
    metrics: MetricsSection = MetricsSection()
    # one-stop border post (config/onestop.py); absent: the single-authority lane
    authority: list[AuthoritySection] = Field(default_factory=list, max_length=2)
    onestop: OnestopSection | None = None

    @model_validator(mode="after")
    def _one_stop_post_consistent(self):
        check_authorities(self.authority, self.onestop, self.device.data_dir)
        check_own_trust_stores(self.authority, self.smartcard.csca_dir)
        check_people(self.authority, self.officer, self.kiosk.languages)
        return self

    @model_validator(mode="after")
    def _chip_read_ends_before_its_stage(self):
        # the reader must give up on its own, not be declared hung by the lane's watchdog
        if self.smartcard.read_timeout_s >= self.lane.chip_s:
            raise ValueError("smartcard.read_timeout_s must be shorter than lane.chip_s")
        return self
