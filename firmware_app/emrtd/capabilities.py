"""What the chip can do before authentication: EF.CardAccess (PACE) and EF.ATR/INFO (extended length).

Both are read in plain with short-EF-identifier READ BINARY (one APDU each). Extended length is
used only when the chip declares it (EF.ATR/INFO, or the ATR hint from the transport): many older
chips end secure messaging on any unexpected command, so we never guess.
"""
from __future__ import annotations

from dataclasses import replace

from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.binary import SHORT_SM_MAX, ReadLimits
from firmware_app.emrtd.errors import TlvError
from firmware_app.emrtd.files import SFI_ATR_INFO, SFI_CARD_ACCESS
from firmware_app.emrtd.pace.info import PaceInfo, parse_card_access
from firmware_app.emrtd.session import Session
from firmware_app.emrtd.tlv import parse_tlv

SHORT_LIMITS = ReadLimits(SHORT_SM_MAX, extended=False)
UNDECLARED_LIMITS = ReadLimits(SHORT_SM_MAX, extended=False, declared=False)
TAG_EXTENDED_LENGTH_INFO = 0x7F66
SM_OVERHEAD = 40  # DO87 header + padding + DO99 + DO8E, rounded up
EXTENDED_DEFAULT_RESPONSE = 65536


def read_short_file(session: Session, sfi: int, step: str) -> bytes | None:
    """Up to 256 bytes of a file addressed by SFI, or None when the chip has no such file."""
    response = session.send(CommandApdu(0x00, Ins.READ_BINARY, 0x80 | sfi, 0x00, ne=256), step)
    return response.data if response.sw in (0x9000, 0x6282) and response.data else None


def read_capabilities(session: Session, forced_extended: bool | None,
                      extended_hint: bool | None) -> tuple[list[PaceInfo] | None, ReadLimits]:
    card_access = _card_access(session)
    if forced_extended is not None:
        return card_access, _limits(forced_extended, EXTENDED_DEFAULT_RESPONSE)
    max_response = _atr_info_max_response(session)
    if max_response is not None:
        return card_access, _limits(max_response > 256, max_response)
    if extended_hint is None:
        return card_access, UNDECLARED_LIMITS
    return card_access, _limits(extended_hint, EXTENDED_DEFAULT_RESPONSE)


def _limits(extended: bool, max_response: int) -> ReadLimits:
    if not extended:
        return SHORT_LIMITS
    # an extended Le encodes at most 65536: a larger declared value would wrap modulo 65536 under SM
    capped = min(max_response, EXTENDED_DEFAULT_RESPONSE)
    return ReadLimits(max(SHORT_SM_MAX, capped - SM_OVERHEAD), extended=True)


def within_transport(limits: ReadLimits, max_apdu_data: int | None) -> ReadLimits:
    """The chip may answer more per READ BINARY than the reader passes on (its dwMaxAPDUDataSize):
    the protected answer, data plus secure-messaging objects, must fit the smaller of the two."""
    if max_apdu_data is None or not limits.extended:
        return limits
    fitted = max(SHORT_SM_MAX, max_apdu_data - SM_OVERHEAD)
    return replace(limits, max_response=min(limits.max_response, fitted))


def _card_access(session: Session) -> list[PaceInfo] | None:
    data = read_short_file(session, SFI_CARD_ACCESS, "read EF.CardAccess")
    if data is None:
        return None
    try:
        return parse_card_access(data)
    except TlvError:
        return None  # unreadable CardAccess: behave as a BAC-only chip


def _atr_info_max_response(session: Session) -> int | None:
    """Maximum response length from EF.ATR/INFO's extended length info (7F66), if declared."""
    data = read_short_file(session, SFI_ATR_INFO, "read EF.ATR/INFO")
    if data is None:
        return None
    try:
        for node in parse_tlv(data, max_depth=3):
            if node.tag == TAG_EXTENDED_LENGTH_INFO and len(node.children) >= 2:
                return int.from_bytes(node.children[1].value[:3], "big")
    except TlvError:
        return None
    return None


def probe_extended_length(session: Session, com_fid: int, reestablish) -> ReadLimits:
    """One extended READ BINARY of EF.COM. Old chips may refuse it and drop secure messaging
    (or the reader may not pass it on): then `reestablish()` re-authenticates and short APDUs are used."""
    from firmware_app.emrtd.binary import select_file
    from firmware_app.emrtd.errors import EmrtdError
    try:
        select_file(session, com_fid, "EF.COM (probe)")
        response = session.send(CommandApdu(0x00, Ins.READ_BINARY, 0, 0, ne=EXTENDED_DEFAULT_RESPONSE),
                                "extended length probe")
        if response.sw in (0x9000, 0x6282) and response.data:
            return _limits(True, EXTENDED_DEFAULT_RESPONSE)
    except EmrtdError:
        pass  # refused in some way: fall through to recovery
    reestablish()
    return SHORT_LIMITS
