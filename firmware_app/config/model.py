"""The configuration model. Every section forbids unknown keys so a typo never passes silently.

Devices are chosen by URL; a simulated backend is only ever used when its URL says `sim`.
The reader section lives in reader.py, the gate wiring in gate_io.py; both are re-exported here.
"""
from __future__ import annotations

import ipaddress
from enum import Enum
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from .gate_io import DoorFailMode as DoorFailMode
from .gate_io import DoorPinsSection as DoorPinsSection
from .gate_io import GateSection
from .gate_io import GpioPin as GpioPin
from .gate_io import PinFactory as PinFactory
from .identity import IdentitySection
from .operations import MetricsSection, StatusSection, UpdateSection
from .reader import CuteDelimiters as CuteDelimiters
from .reader import Framing as Framing
from .reader import Parity as Parity
from .reader import ReaderSection
from .reader import RteBccScope as RteBccScope
from .reader import RteLengthScope as RteLengthScope
from .reader import RteMode as RteMode
from .strict import Strict


class Direction(str, Enum):
    ENTRY = "entry"
    EXIT = "exit"


class DeviceSection(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    post_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    direction: Direction = Direction.ENTRY
    data_dir: Path = Path("var")


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
