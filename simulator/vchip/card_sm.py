"""Card side of secure messaging: verify and decrypt commands, protect responses."""
from __future__ import annotations

import hmac

from firmware_app.emrtd.apdu import CommandApdu, ResponseApdu
from firmware_app.emrtd.cipher import AesSuite, Des3Suite, pad, unpad
from firmware_app.emrtd.errors import SecureMessagingError, TlvError
from firmware_app.emrtd.tlv import encode_tlv, iter_tlv


class CardSecureMessaging:
    def __init__(self, suite: Des3Suite | AesSuite, ks_enc: bytes, ks_mac: bytes, ssc: int):
        self.suite, self.ks_enc, self.ks_mac, self.ssc = suite, ks_enc, ks_mac, ssc
        self.corrupt_next_mac = False

    def _next_ssc(self) -> bytes:
        self.ssc = (self.ssc + 1) % (1 << (8 * self.suite.block_size))
        return self.ssc.to_bytes(self.suite.block_size, "big")

    def unwrap_command(self, command: CommandApdu) -> CommandApdu:
        """Plain command from a protected one; SecureMessagingError if anything is off."""
        if command.cla & 0x0C != 0x0C:
            raise SecureMessagingError("command is not protected")
        ssc = self._next_ssc()
        try:
            objects = list(iter_tlv(command.data))
        except TlvError as exc:
            raise SecureMessagingError(f"malformed protected command: {exc}") from exc
        found = dict(objects)
        if 0x8E not in found or objects[-1][0] != 0x8E:
            raise SecureMessagingError("protected command lacks a final DO8E")
        covered = command.data[:len(command.data) - 2 - len(found[0x8E])]
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        block = self.suite.block_size
        mac = self.suite.mac(self.ks_mac, pad(ssc + pad(header, block) + covered, block))
        if not hmac.compare_digest(mac, found[0x8E]):
            raise SecureMessagingError("command MAC does not verify")
        return CommandApdu(command.cla & ~0x0C & 0xFF, command.ins, command.p1, command.p2,
                           self._plain_data(found, ssc), _ne(found.get(0x97)))

    def _plain_data(self, found: dict[int, bytes], ssc: bytes) -> bytes:
        value = found.get(0x87, b"\x01")[1:] or found.get(0x85, b"")
        if not value:
            return b""
        if len(value) % self.suite.block_size:
            raise SecureMessagingError("encrypted command data is not whole blocks")
        return unpad(self.suite.decrypt(self.ks_enc, value, ssc))

    def wrap_response(self, response: ResponseApdu, odd_ins: bool) -> bytes:
        ssc = self._next_ssc()
        body = b""
        if response.data:
            encrypted = self.suite.encrypt(self.ks_enc, pad(response.data, self.suite.block_size), ssc)
            body = encode_tlv(0x85, encrypted) if odd_ins else encode_tlv(0x87, b"\x01" + encrypted)
        body += encode_tlv(0x99, response.sw.to_bytes(2, "big"))
        mac = self.suite.mac(self.ks_mac, pad(ssc + body, self.suite.block_size))
        if self.corrupt_next_mac:
            self.corrupt_next_mac = False
            mac = bytes([mac[0] ^ 0x01]) + mac[1:]
        return body + encode_tlv(0x8E, mac) + response.sw.to_bytes(2, "big")


def _ne(le: bytes | None) -> int:
    if le is None:
        return 0
    if len(le) == 1:
        return le[0] or 256
    return int.from_bytes(le, "big") or 65536
