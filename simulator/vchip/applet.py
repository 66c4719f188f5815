"""A virtual ICAO eMRTD chip: SELECT, BAC, PACE (GM, IM, CAM), secure messaging, READ BINARY (B0/B1,
SFI, short or extended length) over files given as bytes, with faults on demand. Without extended
length it takes chained commands (CLA bit 0x10) and hands long answers out through 61xx.

`process(apdu) -> response` is all a transport needs; it never raises on hostile commands.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from firmware_app.emrtd.apdu import SHORT_MAX_NE, CommandApdu, ResponseApdu, parse_command
from firmware_app.emrtd.errors import ApduError, EmrtdError, TlvError
from firmware_app.emrtd.files import EMRTD_AID, SFI_ATR_INFO, SFI_CARD_ACCESS
from firmware_app.emrtd.keys import MrzKey
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.session import Rng
from firmware_app.emrtd.tlv import encode_tlv, parse_single_tlv
from simulator.vchip.card_auth import CardBac, CardPace
from simulator.vchip.card_checks import CardChecks
from simulator.vchip.card_sm import CardSecureMessaging

SW_OK, SW_EOF = 0x9000, 0x6282
SW_WRONG_LENGTH, SW_SM_MISSING, SW_SM_INCORRECT = 0x6700, 0x6987, 0x6988
SW_SECURITY, SW_NOT_FOUND, SW_WRONG_P1P2, SW_OFFSET = 0x6982, 0x6A82, 0x6A86, 0x6B00
SW_INS, SW_WRONG_DATA, SW_UNKNOWN = 0x6D00, 0x6A80, 0x6F00
MAX_CHAINED = 4096  # a chained command longer than this is answered as it stands (and refused)


@dataclass
class ChipFaults:
    """Misbehaviour on demand, for testing the reader's recovery and error paths."""
    corrupt_mac_on_read: int | None = None  # corrupt the response MAC of the n-th protected READ BINARY
    fail_read_once_at: int | None = None  # answer 6F00 once to the READ BINARY at this offset
    extended_kills_sm: bool = False  # like old chips: an extended APDU ends secure messaging
    read_cap: int | None = None  # hostile: past a file's header, answer at most this many bytes per read


@dataclass
class ChipConfig:
    files: dict[int, bytes]  # file id -> content, inside the eMRTD application
    mrz: MrzKey
    can: str | None = None
    pace: list[PaceInfo] = field(default_factory=list)  # empty: BAC-only chip, no EF.CardAccess
    bac: bool = True
    extended_length: bool = False
    card_access: bytes | None = None  # EF.CardAccess bytes (built by the caller from `pace`)
    card_security: bytes | None = None  # EF.CardSecurity (master file 011D), needed by PACE-CAM
    atr_info: bytes | None = None
    faults: ChipFaults = field(default_factory=ChipFaults)
    aa_key: object = None  # RSA or EC private key for active authentication
    ca_key: object = None  # EC private key or simulator.chip_keys.DhChipKey for chip authentication


class VirtualIcaoChip:
    def __init__(self, config: ChipConfig, rng: Rng):
        self.config, self.rng = config, rng
        self.reads = 0
        self.reset()

    def reset(self) -> None:
        self.sm: CardSecureMessaging | None = None
        self.app_selected = False
        self.current: bytes | None = None
        self.bac = CardBac(self.config.mrz, self.rng) if self.config.bac else None
        self.pace = CardPace(self.config.pace, self.config.mrz, self.config.can, self.rng, self.config.ca_key)
        self.checks = CardChecks(self.config.aa_key, self.config.ca_key, self.rng)
        self._next_sm: CardSecureMessaging | None = None  # CA: switch after answering under old keys
        self._failed_once = False
        self._chained = b""  # parts of a chained command received so far
        self._pending = b""  # the rest of a long answer, for GET RESPONSE

    def process(self, raw: bytes) -> bytes:
        if raw[1:2] == b"\xC0" and self._pending:
            return self._get_response(raw)
        self._pending = b""
        answer = self._process(raw)
        if self.config.extended_length or len(answer) <= SHORT_MAX_NE + 2:
            return answer
        data, status = answer[:-2], answer[-2:]
        self._pending = data[SHORT_MAX_NE:] + status
        return data[:SHORT_MAX_NE] + bytes([0x61, min(len(self._pending) - 2, 256) % 256])

    def _get_response(self, raw: bytes) -> bytes:
        size = (raw[4] or 256) if len(raw) == 5 else 256
        data, status = self._pending[:-2], self._pending[-2:]
        if len(data) <= size:
            self._pending = b""
            return data + status
        self._pending = data[size:] + status
        return data[:size] + bytes([0x61, min(len(self._pending) - 2, 256) % 256])

    def _process(self, raw: bytes) -> bytes:
        try:
            command = parse_command(raw)
        except ApduError:
            return _sw(SW_WRONG_LENGTH)
        if command.is_extended and not self.config.extended_length:
            if self.config.faults.extended_kills_sm:
                self.sm = None
            return _sw(SW_WRONG_LENGTH)
        if command.cla & 0x0C:
            return self._process_protected(command)
        if command.ins == 0x86:
            command = self._unchain(command)
            if command is None:
                return _sw(SW_OK)  # a part of a chained command: wait for the rest
        if self.sm is not None and self.app_selected:
            self.sm = None  # a plain command inside a secure session ends it, like real chips
        return self._dispatch(command, protected=False).encode()

    def _unchain(self, command: CommandApdu) -> CommandApdu | None:
        """Join chained GENERAL AUTHENTICATE parts: PACE's own steps also carry the chaining bit,
        so a part is told apart by its 7C object being incomplete."""
        data, self._chained = self._chained + command.data, b""
        if command.cla & 0x10 and not _complete_tlv(data) and len(data) < MAX_CHAINED:
            self._chained = data
            return None
        return replace(command, data=data)

    def _process_protected(self, command: CommandApdu) -> bytes:
        sm = self.sm
        if sm is None:
            return _sw(SW_SM_MISSING)
        try:
            plain = sm.unwrap_command(command)
        except EmrtdError:
            self.sm = None
            return _sw(SW_SM_INCORRECT)
        response = self._dispatch(plain, protected=True)
        if self.sm is not sm:  # authentication restarted inside SM: answer in plain
            return response.encode()
        self._maybe_corrupt(plain, sm)
        wrapped = sm.wrap_response(response, odd_ins=bool(plain.ins % 2))
        if self._next_sm is not None:
            self.sm, self._next_sm = self._next_sm, None
        return wrapped

    def _maybe_corrupt(self, plain: CommandApdu, sm: CardSecureMessaging) -> None:
        if plain.ins in (0xB0, 0xB1):
            self.reads += 1
            if self.reads == self.config.faults.corrupt_mac_on_read:
                sm.corrupt_next_mac = True

    def _dispatch(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        handler = {0xA4: self._select, 0xB0: self._read_binary, 0xB1: self._read_binary_odd,
                   0x84: self._get_challenge, 0x82: self._external_authenticate, 0x22: self._mse,
                   0x86: self._general_authenticate, 0x88: self._internal_authenticate}.get(command.ins)
        if handler is None:
            return ResponseApdu(b"", SW_INS)
        return handler(command, protected)

    def _select(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if command.p1 == 0x04:
            self.app_selected = command.data == EMRTD_AID
            return ResponseApdu(b"", SW_OK if self.app_selected else SW_NOT_FOUND)
        if command.p1 != 0x02 or len(command.data) != 2:
            return ResponseApdu(b"", SW_WRONG_P1P2)
        fid = int.from_bytes(command.data, "big")
        files = self.config.files if self.app_selected else self._master_files()
        if fid not in files:
            return ResponseApdu(b"", SW_NOT_FOUND)
        if not protected:
            return ResponseApdu(b"", SW_SECURITY)
        self.current = files[fid]
        return ResponseApdu(b"", SW_OK)

    def _master_files(self) -> dict[int, bytes]:
        """Files of the master file, selectable before the eMRTD application (EF.CardSecurity after PACE)."""
        found = {0x011C: self.config.card_access, 0x011D: self.config.card_security}
        return {fid: content for fid, content in found.items() if content is not None}

    def _file_for_read(self, command: CommandApdu, protected: bool) -> tuple[bytes | None, int, int]:
        """(file, offset, status) for B0, including short-EF-identifier reads of MF files."""
        if command.p1 & 0x80:
            sfi = command.p1 & 0x1F
            mf_files = {SFI_CARD_ACCESS: self.config.card_access, SFI_ATR_INFO: self.config.atr_info}
            content = mf_files.get(sfi)
            return content, command.p2, SW_OK if content is not None else SW_NOT_FOUND
        if not protected:
            return None, 0, SW_SECURITY
        return self.current, ((command.p1 << 8) | command.p2) & 0x7FFF, SW_OK if self.current else SW_NOT_FOUND

    def _read_binary(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        content, offset, status = self._file_for_read(command, protected)
        if content is None:
            return ResponseApdu(b"", status)
        return self._slice(content, offset, command.ne or SHORT_MAX_NE)

    def _slice(self, content: bytes, offset: int, ne: int) -> ResponseApdu:
        if offset == self.config.faults.fail_read_once_at and not self._failed_once:
            self._failed_once = True
            return ResponseApdu(b"", SW_UNKNOWN)
        if offset >= len(content):
            return ResponseApdu(b"", SW_OFFSET)
        if offset > 0 and self.config.faults.read_cap is not None:
            ne = min(ne, self.config.faults.read_cap)  # the header (offset 0) comes in full
        data = content[offset:offset + ne]
        return ResponseApdu(data, SW_OK if len(data) == ne else SW_EOF)

    def _read_binary_odd(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if not protected or self.current is None:
            return ResponseApdu(b"", SW_SECURITY if not protected else SW_NOT_FOUND)
        try:
            offset_object = parse_single_tlv(command.data, max_depth=1, expected_tag=0x54)
        except TlvError:
            return ResponseApdu(b"", SW_WRONG_DATA)
        offset = int.from_bytes(offset_object.value[:4], "big")
        room = (command.ne or SHORT_MAX_NE) - 4  # leave space for the 53 header
        plain = self._slice(self.current, offset, max(room, 1))
        if not plain.data:
            return plain
        return ResponseApdu(encode_tlv(0x53, plain.data), plain.sw)

    def _get_challenge(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if self.bac is None or command.ne != 8:
            return ResponseApdu(b"", SW_INS if self.bac is None else SW_WRONG_LENGTH)
        return ResponseApdu(self.bac.challenge(), SW_OK)

    def _external_authenticate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        result = self.bac.external_authenticate(command.data) if self.bac else None
        self.sm = None
        if result is None:
            return ResponseApdu(b"", 0x6300)
        answer, self.sm = result
        return ResponseApdu(answer, SW_OK)

    def _mse(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if protected and (command.p1, command.p2) == (0x41, 0xA6):
            status, self._next_sm = self.checks.set_kat(command.data)
            return ResponseApdu(b"", status)
        if protected and (command.p1, command.p2) == (0x41, 0xA4):
            return ResponseApdu(b"", self.checks.set_at(command.data))
        if (command.p1, command.p2) != (0xC1, 0xA4) or not self.config.pace:
            return ResponseApdu(b"", SW_WRONG_P1P2)
        self.sm = None
        return ResponseApdu(b"", self.pace.set_at(command.data))

    def _internal_authenticate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if not protected:
            return ResponseApdu(b"", SW_SECURITY)
        status, signature = self.checks.internal_authenticate(command.data)
        return ResponseApdu(signature, status)

    def _general_authenticate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if protected:
            status, data, self._next_sm = self.checks.general_authenticate(command.data)
            return ResponseApdu(data, status)
        sw, data, sm = self.pace.general_authenticate(command.data)
        if sm is not None:
            self.sm, self.app_selected = sm, False
        return ResponseApdu(data, sw)


def _sw(status: int) -> bytes:
    return status.to_bytes(2, "big")


def _complete_tlv(data: bytes) -> bool:
    try:
        parse_single_tlv(data, max_depth=2)
        return True
    except TlvError:
        return False
