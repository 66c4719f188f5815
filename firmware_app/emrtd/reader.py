"""Read a travel document as small numbered steps (gmrtd-style stable progress phases).

Returns raw file bytes keyed by LdsFile; the LDS parsers (firmware_app.emrtd.lds) consume them.
PACE runs whenever EF.CardAccess offers a supported variant (CAM, GM or IM), BAC otherwise; the
result says which and why. After PACE-CAM the reader reads EF.CardSecurity and checks the chip's
authentication data against its key: that check takes chip authentication's place. A block that
fails is retried; if secure messaging was lost, the chip is re-authenticated.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable

from firmware_app.emrtd.access import AccessProtocol, AccessReason, AccessResult
from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.auth import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.bac import perform_bac
from firmware_app.emrtd.binary import BlockSeen, FileNotFound, ReadLimits, read_file, select_file
from firmware_app.emrtd.budget import BudgetGuard, ReadBudget, never
from firmware_app.emrtd.capabilities import UNDECLARED_LIMITS, probe_extended_length, read_capabilities
from firmware_app.emrtd.card_security import FID_CARD_SECURITY, check_cam
from firmware_app.emrtd.chip_checks import (
    confirm_new_keys, parse_for_checks, perform_active_authentication, perform_chip_authentication,
)
from firmware_app.emrtd.errors import AuthenticationError, ReadError, SecureMessagingError, UnsupportedProtocol
from firmware_app.emrtd.files import EMRTD_AID, LdsFile, listed_data_groups
from firmware_app.emrtd.keys import CanKey, MrzKey
from firmware_app.emrtd.lds import parse_dg14, parse_dg15
from firmware_app.emrtd.pace import SUPPORTED_PARAMETER_IDS, perform_pace
from firmware_app.emrtd.pace_info import PaceInfo, choose_pace_info
from firmware_app.emrtd.session import ApduLog, Rng, Session
from firmware_app.emrtd.vouch import SodVouch

MANDATORY = (LdsFile.SOD, LdsFile.DG1, LdsFile.DG2)
WANTED_WHEN_LISTED = (LdsFile.DG14, LdsFile.DG15, LdsFile.DG7, LdsFile.DG11, LdsFile.DG12)
MAX_REAUTHENTICATIONS = 3


class ReadStep(enum.IntEnum):
    """Stable, numbered progress phases (shown to technicians, recorded in timings)."""
    CAPABILITIES = 1
    AUTHENTICATE = 2
    SELECT_APPLICATION = 3
    READ_COM = 4
    READ_SOD = 5
    READ_DG1 = 6
    READ_DG2 = 7
    READ_DG14 = 8
    READ_DG15 = 9
    READ_OPTIONAL = 10
    CHIP_AUTHENTICATION = 11
    ACTIVE_AUTHENTICATION = 12
    DONE = 13


_STEP_OF = {LdsFile.COM: ReadStep.READ_COM, LdsFile.SOD: ReadStep.READ_SOD, LdsFile.DG1: ReadStep.READ_DG1,
            LdsFile.DG2: ReadStep.READ_DG2, LdsFile.DG14: ReadStep.READ_DG14, LdsFile.DG15: ReadStep.READ_DG15}


@dataclass(frozen=True)
class ReadOptions:
    prefer_pace: bool = True
    chip_authentication: bool = True  # run CA when DG14 offers it
    active_authentication: bool = True  # run AA when DG15 is present
    extended_length: bool | None = None  # None: decide from EF.ATR/INFO or the transport's ATR hint
    fallback_to_bac: bool = True  # PACE refused by the chip: try BAC (the result says so)
    probe_extended: bool = False  # when nothing declares it, try once (re-authenticates if refused)


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass
class DocumentRead:
    access: AccessResult
    files: dict[LdsFile, bytes] = field(repr=False)
    missing: list[LdsFile]  # listed in EF.COM but absent on the chip
    extended_length: bool
    reauthentications: int
    log: ApduLog
    timings_ms: dict[str, float] = field(default_factory=dict)
    chip_auth: ChipCheckResult = ChipCheckResult.not_performed(ChipCheck.CHIP_AUTHENTICATION,
                                                               ChipCheckReason.NOT_OFFERED)
    active_auth: ChipCheckResult = ChipCheckResult.not_performed(ChipCheck.ACTIVE_AUTHENTICATION,
                                                                 ChipCheckReason.NOT_OFFERED)
    card_security: bytes | None = field(default=None, repr=False)  # EF.CardSecurity, read for PACE-CAM

    @property
    def data_groups(self) -> dict[int, bytes]:
        """DG number -> content of the data groups read, as passive authentication takes them."""
        return {int(f.value[2:]): data for f, data in self.files.items() if f.value.startswith("DG")}


Progress = Callable[[ReadStep, str], None]
FileWatch = Callable[[LdsFile], BlockSeen | None]  # per file: who looks at its content as it arrives


class DocumentReader:
    def __init__(self, session: Session, key: MrzKey | CanKey, rng: Rng, clock: Callable[[], float],
                 options: ReadOptions = ReadOptions(), progress: Progress | None = None,
                 extended_hint: bool | None = None, vouch: SodVouch | None = None,
                 budget: ReadBudget = ReadBudget(), cancelled: Callable[[], bool] = never,
                 watch: FileWatch | None = None):
        self.session, self.key, self.rng, self.clock = session, key, rng, clock
        self.vouch, self.budget, self.watch = vouch or SodVouch(), budget, watch or (lambda file: None)
        session.guard = BudgetGuard(budget, clock, cancelled)  # checked before every APDU
        self.options, self.progress = options, progress or (lambda step, detail: None)
        self.extended_hint = extended_hint
        self.timings: dict[str, float] = {}
        self.reauthentications = 0
        self._pace: PaceInfo | None = None
        self._reason = AccessReason.NO_CARD_ACCESS
        self.access: AccessResult | None = None
        self._checks: dict[ChipCheck, ChipCheckResult] = {}
        self._card_security: bytes | None = None
        self._limits = UNDECLARED_LIMITS

    def read(self) -> DocumentRead:
        card_access, limits = self._timed(ReadStep.CAPABILITIES, self._capabilities)
        self._limits = limits
        self._choose_protocol(card_access)
        self._timed(ReadStep.AUTHENTICATE, self._establish)
        if not limits.declared and self.options.probe_extended:
            limits = self._timed(ReadStep.CAPABILITIES, probe_extended_length, self.session, LdsFile.COM.fid,
                                 self._reestablish)
        files = {LdsFile.COM: self._read(LdsFile.COM, limits)}
        listed = listed_data_groups(files[LdsFile.COM])
        self._limits = limits
        missing = self._read_all(files, listed, limits)
        self.progress(ReadStep.DONE, f"{len(files)} files")
        result = DocumentRead(self.access, files, missing, limits.extended, self.reauthentications,
                              self.session.log, self.timings)
        result.chip_auth = self._checks.get(ChipCheck.CHIP_AUTHENTICATION, result.chip_auth)
        result.active_auth = self._checks.get(ChipCheck.ACTIVE_AUTHENTICATION, result.active_auth)
        result.reauthentications = self.reauthentications
        result.card_security = self._card_security
        return result

    def _timed(self, step: ReadStep, action: Callable, *args):
        self.progress(step, step.name.lower())
        start = self.clock()
        try:
            return action(*args)
        finally:
            key = step.name.lower()
            self.timings[key] = self.timings.get(key, 0.0) + (self.clock() - start) * 1000.0

    def _capabilities(self) -> tuple[bytes | None, ReadLimits]:
        return read_capabilities(self.session, self.options.extended_length, self.extended_hint)

    def _choose_protocol(self, card_access: list[PaceInfo] | None) -> None:
        if isinstance(self.key, CanKey) and not card_access:
            raise UnsupportedProtocol("a CAN opens PACE only, and this chip does not offer PACE")
        if not card_access or not self.options.prefer_pace:
            self._reason = AccessReason.NO_CARD_ACCESS if not card_access else AccessReason.REQUESTED
            return
        try:
            self._pace = choose_pace_info(card_access, SUPPORTED_PARAMETER_IDS)
            self._reason = AccessReason.PACE_OFFERED
        except UnsupportedProtocol:
            if isinstance(self.key, CanKey):
                raise
            self._reason = AccessReason.PACE_PARAMETERS_UNSUPPORTED

    def _establish(self) -> None:
        """Authenticate and select the eMRTD application (PACE runs before SELECT, BAC after)."""
        self.session.end_secure_messaging()
        if self._pace is not None and self._try_pace():
            return
        self._select_application()
        if not isinstance(self.key, MrzKey):
            raise UnsupportedProtocol("BAC needs the MRZ key")
        self.access = perform_bac(self.session, self.key, self.rng, self._reason)

    def _try_pace(self) -> bool:
        """PACE; if the chip refuses it and an MRZ key is at hand, fall back to BAC (recorded)."""
        try:
            self.access = perform_pace(self.session, self.key, self._pace, self.rng, self._limits.extended)
        except AuthenticationError:
            if not (self.options.fallback_to_bac and isinstance(self.key, MrzKey)):
                raise
            self.session.end_secure_messaging()
            self._pace, self._reason = None, AccessReason.PACE_FAILED_FALLBACK
            return False
        if self.access.cam is not None:
            self._chip_authentication_mapping(self.access.cam)
        self._select_application()
        return True

    def _chip_authentication_mapping(self, cam) -> None:
        """Every PACE-CAM run (re-authentications too) must verify against EF.CardSecurity's key;
        the file is read once, in the master file, before the eMRTD application is selected."""
        if self._card_security is None:
            try:
                self._card_security = read_file(self.session, FID_CARD_SECURITY, "EF.CardSecurity",
                                                self._limits, self._reselect_in_master_file)
            except (ReadError, SecureMessagingError):
                self._card_security = None  # the check below fails for it
        result = check_cam(cam, self._card_security)
        previous = self._checks.get(ChipCheck.CHIP_AUTHENTICATION)
        if previous is None or previous.passed:
            self._checks[ChipCheck.CHIP_AUTHENTICATION] = result

    def _reselect_in_master_file(self, fid: int, sm_lost: bool) -> None:
        """Retry a failed EF.CardSecurity block. It lives in the master file: re-authenticating would
        select the application, where the same file id is EF.SOD, so a lost session fails the read."""
        if sm_lost or (self.session.sm is not None and self.session.sm.ended):
            raise ReadError("EF.CardSecurity", "secure messaging ended")
        select_file(self.session, fid, "EF.CardSecurity")

    def _reestablish(self) -> None:
        self.reauthentications += 1
        self._establish()

    def _select_application(self) -> None:
        command = CommandApdu(0x00, Ins.SELECT, 0x04, 0x0C, EMRTD_AID)
        response = self.session.send(command, "select eMRTD application")
        if not response.ok:
            raise ReadError("eMRTD application", f"SELECT refused (SW {response.sw:04X})")

    def _recover(self, fid: int, sm_lost: bool) -> None:
        """After a failed block: re-authenticate if secure messaging is gone, then re-select the file."""
        if sm_lost or (self.session.sm is not None and self.session.sm.ended):
            if self.reauthentications >= MAX_REAUTHENTICATIONS:
                raise AuthenticationError(self.access.protocol.value, "too many re-authentications")
            self.reauthentications += 1
            self._establish()
        select_file(self.session, fid, f"{fid:04X}")

    def _resume_if_sm_ended(self) -> None:
        if self.session.sm is not None and self.session.sm.ended:
            if self.reauthentications >= MAX_REAUTHENTICATIONS:
                raise AuthenticationError(self.access.protocol.value, "too many re-authentications")
            self.reauthentications += 1
            self._establish()

    def _read(self, file: LdsFile, limits: ReadLimits) -> bytes:
        step = _STEP_OF.get(file, ReadStep.READ_OPTIONAL)
        return self._timed(step, read_file, self.session, file.fid, file.value, limits, self._recover, 2,
                           self.budget, file.max_size, self.watch(file))

    def _read_all(self, files: dict[LdsFile, bytes], listed: list[LdsFile], limits: ReadLimits) -> list[LdsFile]:
        missing = []
        for file in MANDATORY + tuple(f for f in WANTED_WHEN_LISTED if f in listed):
            try:
                files[file] = self._read(file, limits)
            except FileNotFound:
                if file in MANDATORY:
                    raise
                missing.append(file)
                self._resume_if_sm_ended()  # many chips say 6A82 in plain, which ends SM
                continue
            self._after_file(file, files)
        return missing

    def _after_file(self, file: LdsFile, files: dict[LdsFile, bytes]) -> None:
        cam_done = ChipCheck.CHIP_AUTHENTICATION in self._checks  # PACE-CAM already authenticated the chip
        if file is LdsFile.DG14 and self.options.chip_authentication and not cam_done and self._vouched(14, files):
            self.session.guard()  # a cancelled or overdue read starts no more maths
            self._timed(ReadStep.CHIP_AUTHENTICATION, self._chip_authentication, files[file])
        if file is LdsFile.DG15 and self.options.active_authentication and self._vouched(15, files):
            self.session.guard()
            self._timed(ReadStep.ACTIVE_AUTHENTICATION, self._active_authentication, files)

    def _vouched(self, number: int, files: dict[LdsFile, bytes]) -> bool:
        """Costly CA/AA maths only on a DG14/DG15 the SOD vouches for (a hostile chip's own keys
        never reach pow()); otherwise the check is recorded as not performed, and why."""
        refusal = self.vouch.refusal(files.get(LdsFile.SOD), number, files[LdsFile(f"DG{number}")])
        if refusal is not None:
            check = ChipCheck.CHIP_AUTHENTICATION if number == 14 else ChipCheck.ACTIVE_AUTHENTICATION
            self._checks[check] = ChipCheckResult.not_performed(check, ChipCheckReason.NOT_VOUCHED, refusal)
        return refusal is None

    def _chip_authentication(self, dg14_bytes: bytes) -> None:
        dg14, failure = parse_for_checks(parse_dg14, dg14_bytes, ChipCheck.CHIP_AUTHENTICATION)
        result = failure or perform_chip_authentication(self.session, dg14, self.rng)
        if result.passed:
            result = confirm_new_keys(result, self._probe_new_keys())
        if result.reason in (ChipCheckReason.CHIP_REFUSED, ChipCheckReason.SM_FAILED_WITH_NEW_KEYS):
            self.reauthentications += 1
            self._establish()  # a refused or failed CA leaves no usable session: start again
        self._checks[ChipCheck.CHIP_AUTHENTICATION] = result

    def _probe_new_keys(self) -> Exception | None:
        try:
            select_file(self.session, LdsFile.COM.fid, "EF.COM (CA check)")
            return None
        except (SecureMessagingError, ReadError) as exc:
            return exc if isinstance(exc, SecureMessagingError) else SecureMessagingError(str(exc))

    def _active_authentication(self, files: dict[LdsFile, bytes]) -> None:
        dg15, failure = parse_for_checks(parse_dg15, files[LdsFile.DG15], ChipCheck.ACTIVE_AUTHENTICATION)
        dg14 = None
        if LdsFile.DG14 in files:
            dg14, _ = parse_for_checks(parse_dg14, files[LdsFile.DG14], ChipCheck.ACTIVE_AUTHENTICATION)
        self._checks[ChipCheck.ACTIVE_AUTHENTICATION] = failure or perform_active_authentication(
            self.session, dg15, dg14, self.rng, self._limits.extended)
        self._resume_if_sm_ended()  # optional files may follow


def read_document(transceiver, key: MrzKey | CanKey, rng: Rng, clock: Callable[[], float],
                  options: ReadOptions = ReadOptions(), progress: Progress | None = None,
                  vouch: SodVouch | None = None, budget: ReadBudget = ReadBudget(),
                  cancelled: Callable[[], bool] = never, watch: FileWatch | None = None) -> DocumentRead:
    """Read the chip behind `transceiver`, then close the transport whatever happened (a card
    left open would block the next reader on the same slot). The read stops with a typed error
    when `budget` runs out or `cancelled()` turns true (checked between APDUs)."""
    try:
        reader = DocumentReader(Session(transceiver), key, rng, clock, options, progress,
                                extended_hint=getattr(transceiver, "extended_length", None), vouch=vouch,
                                budget=budget, cancelled=cancelled, watch=watch)
        return reader.read()
    finally:
        close = getattr(transceiver, "close", None)
        if close:
            close()
