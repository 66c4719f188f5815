"""Secure messaging (ICAO 9303-11 section 9.8): protect commands, verify and unwrap responses.

One SecureMessaging object per authenticated session. A response whose MAC fails, or an
unprotected error answer, ends it for good (`ended`); the reader must re-authenticate.
"""
from __future__ import annotations

from typing import NoReturn

from firmware_app.emrtd.apdu import SHORT_MAX_NE, CommandApdu, ResponseApdu
from firmware_app.emrtd.cipher import MAC_SIZE, AesSuite, Des3Suite, pad, unpad
from firmware_app.emrtd.errors import ResponseMacError, SecureMessagingError, TlvError
from firmware_app.emrtd.tlv import encode_tlv, iter_tlv

SM_CLA_BITS = 0x0C
TAG_ENCRYPTED_EVEN = 0x87
TAG_ENCRYPTED_ODD = 0x85
TAG_LE = 0x97
TAG_SW = 0x99
TAG_MAC = 0x8E
PADDING_INDICATOR = b"\x01"
PLAIN_SW1_REFUSED = (0x90, 0x61, 0x62, 0x63)  # only error status words may come back unprotected


class SecureMessaging:
    def __init__(self, suite: Des3Suite | AesSuite, ks_enc: bytes, ks_mac: bytes, ssc: int = 0):
        self.suite = suite
        self._ks_enc = ks_enc
        self._ks_mac = ks_mac
        self._ssc = ssc
        self.ended = False

    @property
    def ssc(self) -> int:
        return self._ssc

    def _next_ssc(self) -> bytes:
        self._ssc = (self._ssc + 1) % (1 << (8 * self.suite.block_size))
        return self._ssc.to_bytes(self.suite.block_size, "big")

    def _require_open(self) -> None:
        if self.ended:
            raise SecureMessagingError("secure messaging session has ended; re-authenticate")

    def wrap(self, command: CommandApdu) -> bytes:
        """Protected command APDU bytes for a plain command."""
        self._require_open()
        ssc = self._next_ssc()
        header = bytes([command.cla | SM_CLA_BITS, command.ins, command.p1, command.p2])
        objects = self._data_object(command, ssc) + _le_object(command)
        mac = self.suite.mac(self._ks_mac, pad(ssc + pad(header, self.suite.block_size) + objects,
                                               self.suite.block_size))
        body = objects + encode_tlv(TAG_MAC, mac)
        extended = command.is_extended or len(body) > 255
        return CommandApdu(header[0], command.ins, command.p1, command.p2, body,
                           65536 if extended else SHORT_MAX_NE).encode(force_extended=extended)

    def _data_object(self, command: CommandApdu, ssc: bytes) -> bytes:
        if not command.data:
            return b""
        encrypted = self.suite.encrypt(self._ks_enc, pad(command.data, self.suite.block_size), ssc)
        if command.ins % 2:
            return encode_tlv(TAG_ENCRYPTED_ODD, encrypted)
        return encode_tlv(TAG_ENCRYPTED_EVEN, PADDING_INDICATOR + encrypted)

    def unwrap(self, raw: ResponseApdu) -> ResponseApdu:
        """Verify the response MAC and decrypt; any doubt ends the session with a typed error."""
        self._require_open()
        ssc = self._next_ssc()
        if not raw.data:
            self.ended = True  # the chip answered in plain: by 9303 it has dropped secure messaging
            if raw.sw >> 8 in PLAIN_SW1_REFUSED:  # success or warning without a MAC: unauthenticated
                raise SecureMessagingError(f"unprotected answer {raw.sw:04X} under secure messaging")
            return raw
        objects = self._split(raw.data)
        self._verify_mac(ssc, raw.data, objects)
        sw = objects.get(TAG_SW)
        if sw is None or len(sw) != 2:
            return self._fail("response lacks status word object DO99")
        return ResponseApdu(self._decrypt(objects, ssc), int.from_bytes(sw, "big"))

    def _split(self, data: bytes) -> dict[int, bytes]:
        try:
            items = list(iter_tlv(data))
        except TlvError as exc:
            return self._fail(f"malformed protected response: {exc}")
        objects = dict(items)
        if len(objects) != len(items) or not set(objects) <= {TAG_ENCRYPTED_EVEN, TAG_ENCRYPTED_ODD, TAG_SW, TAG_MAC}:
            return self._fail("unexpected or repeated data objects in protected response")
        return objects

    def _verify_mac(self, ssc: bytes, data: bytes, objects: dict[int, bytes]) -> None:
        mac = objects.get(TAG_MAC)
        if mac is None or len(mac) != MAC_SIZE:
            self._fail("response lacks a MAC object DO8E")
        mac_object = encode_tlv(TAG_MAC, mac)
        if not data.endswith(mac_object):  # anything after DO8E would not be authenticated
            self._fail("DO8E is not the last object of the protected response")
        covered = data[:-len(mac_object)]
        expected = self.suite.mac(self._ks_mac, pad(ssc + covered, self.suite.block_size))
        if expected != mac:
            self.ended = True
            raise ResponseMacError("response MAC does not verify; secure messaging ended")

    def _decrypt(self, objects: dict[int, bytes], ssc: bytes) -> bytes:
        if TAG_ENCRYPTED_EVEN in objects:
            value = objects[TAG_ENCRYPTED_EVEN]
            if not value.startswith(PADDING_INDICATOR):
                return self._fail("DO87 without padding-content indicator 01")
            value = value[1:]
        else:
            value = objects.get(TAG_ENCRYPTED_ODD, b"")
        if not value:
            return b""
        if len(value) % self.suite.block_size:
            return self._fail("encrypted data is not whole cipher blocks")
        try:
            return unpad(self.suite.decrypt(self._ks_enc, value, ssc))
        except SecureMessagingError as exc:
            return self._fail(str(exc))

    def _fail(self, reason: str) -> NoReturn:
        self.ended = True
        raise SecureMessagingError(reason)


def _le_object(command: CommandApdu) -> bytes:
    if not command.ne:
        return b""
    if command.ne <= SHORT_MAX_NE:
        return encode_tlv(TAG_LE, bytes([command.ne % 256]))
    return encode_tlv(TAG_LE, (command.ne % 65536).to_bytes(2, "big"))
