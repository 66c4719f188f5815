"""Read a travel document as a visible list of steps, in the order they happen (gmrtd's reader is
the model); each step reports a stable, numbered progress phase (ReadStep):

    CAPABILITIES            EF.CardAccess (PACE offers) and EF.ATR/INFO (extended length), in plain
    AUTHENTICATE            PACE when offered and usable (access.choose_access), then SELECT the
                            application; else SELECT, then BAC. After PACE-CAM: EF.CardSecurity and
                            the CAM check, which takes chip authentication's place
    (CAPABILITIES)          optional extended-length probe, when nothing declared it
    READ_COM                EF.COM: which data groups the chip holds
    READ_SOD, DG1, DG2      mandatory
    READ_DG14 -> CHIP_AUTHENTICATION     when listed, and only on a DG14 the SOD vouches for
    READ_DG15 -> ACTIVE_AUTHENTICATION   when listed, and only on a DG15 the SOD vouches for
    READ_OPTIONAL           DG7, DG11, DG12 when listed
    DONE

Returns raw file bytes keyed by LdsFile; the LDS parsers (lds/) and passive authentication (pa/)
work on them after the chip session. A block that fails is retried; a lost secure-messaging
session (bad MAC, a plain error answer, a refused chip authentication, a card reset) is repaired
in one place, `_reauthenticate`, which counts every re-authentication against one limit.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.smartcard import Transceiver
from firmware_app.emrtd.access import AccessProtocol, AccessReason, AccessResult, choose_access
from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.bac import perform_bac
from firmware_app.emrtd.binary import BlockSeen, ReadLimits, read_file, select_file
from firmware_app.emrtd.budget import BudgetGuard, ReadBudget, never
from firmware_app.emrtd.capabilities import (
    UNDECLARED_LIMITS,
    probe_extended_length,
    read_capabilities,
    within_transport,
)
from firmware_app.emrtd.chip_auth.aa import perform_active_authentication
from firmware_app.emrtd.chip_auth.ca import confirm_new_keys, perform_chip_authentication
from firmware_app.emrtd.chip_auth.card_security import FID_CARD_SECURITY, check_cam
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult, parse_for_checks
from firmware_app.emrtd.errors import (
    AuthenticationError,
    CardResetDuringRead,
    FileNotFound,
    ReadError,
    SecureMessagingError,
    UnsupportedProtocol,
)
from firmware_app.emrtd.files import EMRTD_AID, LdsFile, listed_data_groups
from firmware_app.emrtd.keys import CanKey, MrzKey
from firmware_app.emrtd.lds import parse_dg14, parse_dg15
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.pace.protocol import perform_pace
from firmware_app.emrtd.session import ApduLog, Rng, Session
from firmware_app.emrtd.vouch import SodVouch

MANDATORY = (LdsFile.SOD, LdsFile.DG1, LdsFile.DG2)
OPTIONAL_WHEN_LISTED = (LdsFile.DG7, LdsFile.DG11, LdsFile.DG12)  # read last, after the checks
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
    card_access: list[PaceInfo] | None = None  # the unsigned offer acted on (checked by chip_auth.pace_match)

    @property
    def data_groups(self) -> dict[int, bytes]:
        """DG number -> content of the data groups read, as passive authentication takes them."""
        return {int(f.value[2:]): data for f, data in self.files.items() if f.value.startswith("DG")}


Progress = Callable[[ReadStep, str], None]
FileWatch = Callable[[LdsFile], BlockSeen | None]  # per file: who looks at its content as it arrives
# told the files read so far once EF.SOD, DG1 and DG2 are in (the read goes on meanwhile: it must not block)
MandatoryRead = Callable[[dict[LdsFile, bytes]], None]


class DocumentReader:
    def __init__(self, session: Session, key: MrzKey | CanKey, rng: Rng, clock: Callable[[], float],
                 options: ReadOptions = ReadOptions(), progress: Progress | None = None,
                 extended_hint: bool | None = None, vouch: SodVouch | None = None,
                 budget: ReadBudget = ReadBudget(), cancelled: Callable[[], bool] = never,
                 watch: FileWatch | None = None, max_apdu_data: int | None = None,
                 mandatory_read: MandatoryRead | None = None):
        self.session, self.key, self.rng, self.clock = session, key, rng, clock
        self.mandatory_read = mandatory_read or (lambda files: None)
        self.vouch, self.budget, self.watch = vouch or SodVouch(), budget, watch or (lambda file: None)
        session.guard = BudgetGuard(budget, clock, cancelled)  # checked before every APDU
        self.options, self.progress = options, progress or (lambda step, detail: None)
        self.extended_hint, self.max_apdu_data = extended_hint, max_apdu_data  # what the transport says
        self.timings: dict[str, float] = {}
        self.reauthentications = 0  # owned by _reauthenticate
        self._card_access: list[PaceInfo] | None = None
        self._pace: PaceInfo | None = None
        self._reason = AccessReason.NO_CARD_ACCESS
        self.access: AccessResult | None = None
        self._checks: dict[ChipCheck, ChipCheckResult] = {}
        self._card_security: bytes | None = None
        self._limits = UNDECLARED_LIMITS
        self._files: dict[LdsFile, bytes] = {}
        self._listed: list[LdsFile] = []
        self._missing: list[LdsFile] = []

    def read(self) -> DocumentRead:
        steps = (
            self._read_capabilities,
            self._authenticate,
            self._probe_extended_length,
            self._read_com,
            self._read_mandatory,
            self._read_dg14,
            self._chip_authentication,
            self._read_dg15,
            self._active_authentication,
            self._read_optional,
        )
        for step in steps:
            step()
        self.progress(ReadStep.DONE, f"{len(self._files)} files")
        return self._result()

    # --- the steps, in order ---

    def _read_capabilities(self) -> None:
        self._card_access, limits = self._timed(ReadStep.CAPABILITIES, self._capabilities)
        self._limits = within_transport(limits, self.max_apdu_data)

    def _authenticate(self) -> None:
        self._pace, self._reason = choose_access(self.key, self._card_access, self.options.prefer_pace)
        self._timed(ReadStep.AUTHENTICATE, self._first_authentication)

    def _probe_extended_length(self) -> None:
        if self._limits.declared or not self.options.probe_extended:
            return
        limits = self._timed(ReadStep.CAPABILITIES, probe_extended_length, self.session, LdsFile.COM.fid,
                             self._reauthenticate)
        self._limits = within_transport(limits, self.max_apdu_data)

    def _read_com(self) -> None:
        self._files[LdsFile.COM] = self._read(LdsFile.COM)
        self._listed = listed_data_groups(self._files[LdsFile.COM])

    def _read_mandatory(self) -> None:
        for file in MANDATORY:
            self._files[file] = self._read(file)
        self.mandatory_read(dict(self._files))

    def _read_dg14(self) -> None:
        self._read_if_listed(LdsFile.DG14)

    def _chip_authentication(self) -> None:
        if LdsFile.DG14 not in self._files or not self.options.chip_authentication:
            return
        if ChipCheck.CHIP_AUTHENTICATION in self._checks:
            return  # PACE-CAM already authenticated the chip
        if self._vouched(14):
            self.session.check_guard()  # a cancelled or overdue read starts no more maths
            self._timed(ReadStep.CHIP_AUTHENTICATION, self._run_chip_authentication, self._files[LdsFile.DG14])

    def _read_dg15(self) -> None:
        self._read_if_listed(LdsFile.DG15)

    def _active_authentication(self) -> None:
        if LdsFile.DG15 in self._files and self.options.active_authentication and self._vouched(15):
            self.session.check_guard()
            self._timed(ReadStep.ACTIVE_AUTHENTICATION, self._run_active_authentication)

    def _read_optional(self) -> None:
        for file in OPTIONAL_WHEN_LISTED:
            self._read_if_listed(file)

    def _result(self) -> DocumentRead:
        assert self.access is not None      # _establish() authenticated or raised
        result = DocumentRead(self.access, self._files, self._missing, self._limits.extended,
                              self.reauthentications, self.session.log, self.timings)
        result.chip_auth = self._checks.get(ChipCheck.CHIP_AUTHENTICATION, result.chip_auth)
        result.active_auth = self._checks.get(ChipCheck.ACTIVE_AUTHENTICATION, result.active_auth)
        result.card_security, result.card_access = self._card_security, self._card_access
        return result

    # --- how the steps work ---

    def _timed(self, step: ReadStep, action: Callable, *args):
        self.progress(step, step.name.lower())
        start = self.clock()
        try:
            return action(*args)
        finally:
            key = step.name.lower()
            self.timings[key] = self.timings.get(key, 0.0) + (self.clock() - start) * 1000.0

    def _capabilities(self) -> tuple[list[PaceInfo] | None, ReadLimits]:
        try:
            return read_capabilities(self.session, self.options.extended_length, self.extended_hint)
        except CardResetDuringRead:  # nothing authenticated yet: nothing to restore, ask again
            return read_capabilities(self.session, self.options.extended_length, self.extended_hint)

    def _first_authentication(self) -> None:
        try:
            self._establish()
        except CardResetDuringRead:
            self._reauthenticate()

    def _reauthenticate(self) -> None:
        """The one owner of the re-authentication count and its limit: every path that lost the
        secure-messaging session comes here, and a hostile chip cannot make the read loop."""
        while True:
            if self.reauthentications >= MAX_REAUTHENTICATIONS:
                raise AuthenticationError(self._protocol_name(), "too many re-authentications")
            self.reauthentications += 1
            try:
                self._establish()
                return
            except CardResetDuringRead:
                continue  # reset again while authenticating: one more attempt, counted

    def _protocol_name(self) -> str:
        if self.access is not None:
            return self.access.protocol.value
        return (AccessProtocol.PACE if self._pace is not None else AccessProtocol.BAC).value

    def _establish(self) -> None:
        """Authenticate and select the eMRTD application (PACE runs before SELECT, BAC after)."""
        self.session.end_secure_messaging()
        if self._pace is not None and self._try_pace(self._pace):
            return
        self._select_application()
        if not isinstance(self.key, MrzKey):
            raise UnsupportedProtocol("BAC needs the MRZ key")
        self.access = perform_bac(self.session, self.key, self.rng, self._reason)

    def _try_pace(self, info: PaceInfo) -> bool:
        """PACE; if the chip refuses it and an MRZ key is at hand, fall back to BAC (recorded)."""
        try:
            self.access = perform_pace(self.session, self.key, info, self.rng, self._limits.extended)
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
        if sm_lost or self._sm_ended():
            raise ReadError("EF.CardSecurity", "secure messaging ended")
        select_file(self.session, fid, "EF.CardSecurity")

    def _select_application(self) -> None:
        command = CommandApdu(0x00, Ins.SELECT, 0x04, 0x0C, EMRTD_AID)
        response = self.session.send(command, "select eMRTD application")
        if not response.ok:
            raise ReadError("eMRTD application", f"SELECT refused (SW {response.sw:04X})")

    def _sm_ended(self) -> bool:
        return self.session.sm is not None and self.session.sm.ended

    def _recover(self, fid: int, sm_lost: bool) -> None:
        """After a failed block: re-authenticate if secure messaging is gone, then re-select the file."""
        if sm_lost or self._sm_ended():
            self._reauthenticate()
        select_file(self.session, fid, f"{fid:04X}")

    def _read(self, file: LdsFile) -> bytes:
        return self._timed(_STEP_OF.get(file, ReadStep.READ_OPTIONAL), self._read_through_resets, file)

    def _read_through_resets(self, file: LdsFile) -> bytes:
        """A card reset outside a READ BINARY (at a SELECT, say) re-authenticates and reads the file
        again from its start; resets inside one are repaired by `_recover` like any lost session."""
        while True:
            try:
                return read_file(self.session, file.fid, file.value, self._limits, self._recover, 2,
                                 self.budget, file.max_size, self.watch(file))
            except CardResetDuringRead:
                self._reauthenticate()

    def _read_if_listed(self, file: LdsFile) -> None:
        if file not in self._listed:
            return
        try:
            self._files[file] = self._read(file)
        except FileNotFound:
            self._missing.append(file)
            if self._sm_ended():  # many chips say 6A82 in plain, which ends SM
                self._reauthenticate()

    def _vouched(self, number: int) -> bool:
        """Costly CA/AA maths only on a DG14/DG15 the SOD vouches for (a hostile chip's own keys
        never reach pow()); otherwise the check is recorded as not performed, and why."""
        refusal = self.vouch.refusal(self._files.get(LdsFile.SOD), number, self._files[LdsFile(f"DG{number}")])
        if refusal is not None:
            check = ChipCheck.CHIP_AUTHENTICATION if number == 14 else ChipCheck.ACTIVE_AUTHENTICATION
            self._checks[check] = ChipCheckResult.not_performed(check, ChipCheckReason.NOT_VOUCHED, refusal)
        return refusal is None

    def _run_chip_authentication(self, dg14_bytes: bytes) -> None:
        dg14, failure = parse_for_checks(parse_dg14, dg14_bytes, ChipCheck.CHIP_AUTHENTICATION)
        result = failure or perform_chip_authentication(self.session, dg14, self.rng)
        if result.passed:
            result = confirm_new_keys(result, self._probe_new_keys())
        if result.reason in (ChipCheckReason.CHIP_REFUSED, ChipCheckReason.SM_FAILED_WITH_NEW_KEYS):
            self._reauthenticate()  # a refused or failed CA leaves no usable session: start again
        self._checks[ChipCheck.CHIP_AUTHENTICATION] = result

    def _probe_new_keys(self) -> Exception | None:
        try:
            select_file(self.session, LdsFile.COM.fid, "EF.COM (CA check)")
            return None
        except (SecureMessagingError, ReadError) as exc:
            return exc if isinstance(exc, SecureMessagingError) else SecureMessagingError(str(exc))

    def _run_active_authentication(self) -> None:
        files = self._files
        dg15, failure = parse_for_checks(parse_dg15, files[LdsFile.DG15], ChipCheck.ACTIVE_AUTHENTICATION)
        dg14 = None
        if LdsFile.DG14 in files:
            dg14, _ = parse_for_checks(parse_dg14, files[LdsFile.DG14], ChipCheck.ACTIVE_AUTHENTICATION)
        self._checks[ChipCheck.ACTIVE_AUTHENTICATION] = failure or perform_active_authentication(
            self.session, dg15, dg14, self.rng, self._limits.extended)
        if self._sm_ended():  # optional files may follow
            self._reauthenticate()


def read_document(transceiver: Transceiver, key: MrzKey | CanKey, rng: Rng, clock: Callable[[], float],
                  options: ReadOptions = ReadOptions(), progress: Progress | None = None,
                  vouch: SodVouch | None = None, budget: ReadBudget = ReadBudget(),
                  cancelled: Callable[[], bool] = never, watch: FileWatch | None = None,
                  mandatory_read: MandatoryRead | None = None) -> DocumentRead:
    """Read the chip behind `transceiver`, then close the transport whatever happened (a card
    left open would block the next reader on the same slot). The read stops with a typed error
    when `budget` runs out or `cancelled()` turns true (checked between APDUs)."""
    try:
        reader = DocumentReader(Session(transceiver), key, rng, clock, options, progress,
                                extended_hint=transceiver.extended_length, vouch=vouch,
                                budget=budget, cancelled=cancelled, watch=watch,
                                max_apdu_data=transceiver.max_apdu_data, mandatory_read=mandatory_read)
        return reader.read()
    finally:
        transceiver.close()
