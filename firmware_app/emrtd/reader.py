"""Read a travel document as small numbered steps (gmrtd-style stable progress phases).

Returns raw file bytes keyed by LdsFile; the LDS parsers (firmware_app.emrtd.lds) consume them.
PACE runs whenever EF.CardAccess offers a supported variant, BAC otherwise; the result says which
and why. A block that fails is retried; if secure messaging was lost, the chip is re-authenticated.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable

from firmware_app.emrtd.access import AccessProtocol, AccessReason, AccessResult
from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.bac import perform_bac
from firmware_app.emrtd.binary import FileNotFound, ReadLimits, read_file, select_file
from firmware_app.emrtd.capabilities import read_capabilities
from firmware_app.emrtd.errors import AuthenticationError, ReadError, UnsupportedProtocol
from firmware_app.emrtd.files import EMRTD_AID, LdsFile, listed_data_groups
from firmware_app.emrtd.keys import CanKey, MrzKey
from firmware_app.emrtd.pace import SUPPORTED_PARAMETER_IDS, perform_pace
from firmware_app.emrtd.pace_info import PaceInfo, choose_pace_info
from firmware_app.emrtd.session import ApduLog, Rng, Session

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
    DONE = 11


_STEP_OF = {LdsFile.COM: ReadStep.READ_COM, LdsFile.SOD: ReadStep.READ_SOD, LdsFile.DG1: ReadStep.READ_DG1,
            LdsFile.DG2: ReadStep.READ_DG2, LdsFile.DG14: ReadStep.READ_DG14, LdsFile.DG15: ReadStep.READ_DG15}


@dataclass(frozen=True)
class ReadOptions:
    prefer_pace: bool = True
    extended_length: bool | None = None  # None: decide from EF.ATR/INFO or the transport's ATR hint


@dataclass
class DocumentRead:
    access: AccessResult
    files: dict[LdsFile, bytes]
    missing: list[LdsFile]  # listed in EF.COM but absent on the chip
    extended_length: bool
    reauthentications: int
    log: ApduLog
    timings_ms: dict[str, float] = field(default_factory=dict)


Progress = Callable[[ReadStep, str], None]


class DocumentReader:
    def __init__(self, session: Session, key: MrzKey | CanKey, rng: Rng, clock: Callable[[], float],
                 options: ReadOptions = ReadOptions(), progress: Progress | None = None,
                 extended_hint: bool | None = None):
        self.session, self.key, self.rng, self.clock = session, key, rng, clock
        self.options, self.progress = options, progress or (lambda step, detail: None)
        self.extended_hint = extended_hint
        self.timings: dict[str, float] = {}
        self.reauthentications = 0
        self._pace: PaceInfo | None = None
        self._reason = AccessReason.NO_CARD_ACCESS
        self.access: AccessResult | None = None

    def read(self) -> DocumentRead:
        card_access, limits = self._timed(ReadStep.CAPABILITIES, self._capabilities)
        self._choose_protocol(card_access)
        self._timed(ReadStep.AUTHENTICATE, self._establish)
        files = {LdsFile.COM: self._read(LdsFile.COM, limits)}
        listed = listed_data_groups(files[LdsFile.COM])
        missing = self._read_all(files, listed, limits)
        self.progress(ReadStep.DONE, f"{len(files)} files")
        return DocumentRead(self.access, files, missing, limits.extended, self.reauthentications,
                            self.session.log, self.timings)

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
        if self._pace is not None:
            self.access = perform_pace(self.session, self.key, self._pace, self.rng)
            self._select_application()
            return
        self._select_application()
        if not isinstance(self.key, MrzKey):
            raise UnsupportedProtocol("BAC needs the MRZ key")
        self.access = perform_bac(self.session, self.key, self.rng, self._reason)

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

    def _read(self, file: LdsFile, limits: ReadLimits) -> bytes:
        step = _STEP_OF.get(file, ReadStep.READ_OPTIONAL)
        return self._timed(step, read_file, self.session, file.fid, file.value, limits, self._recover)

    def _read_all(self, files: dict[LdsFile, bytes], listed: list[LdsFile], limits: ReadLimits) -> list[LdsFile]:
        missing = []
        for file in MANDATORY + tuple(f for f in WANTED_WHEN_LISTED if f in listed):
            try:
                files[file] = self._read(file, limits)
            except FileNotFound:
                if file in MANDATORY:
                    raise
                missing.append(file)
        return missing
