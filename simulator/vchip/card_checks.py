"""Card side of active authentication (INTERNAL AUTHENTICATE) and chip authentication v1.

Uses the private keys the passport factory returns; the signature/ECDH math is in simulator.chip_keys.
"""
from __future__ import annotations

from firmware_app.emrtd.cipher import CipherKind, suite_for
from firmware_app.emrtd.errors import TlvError
from firmware_app.emrtd.keys import KeyAlgorithm, KeyPurpose, kdf
from firmware_app.emrtd.lds.asn1 import ID_CA_DH, ID_CA_ECDH
from firmware_app.emrtd.oid import decode_oid
from firmware_app.emrtd.session import Rng
from firmware_app.emrtd.tlv import parse_single_tlv, parse_tlv
from simulator.chip_keys import DhChipKey, active_auth_sign, chip_auth_shared_secret
from simulator.vchip.card_sm import CardSecureMessaging

_CA_CIPHERS = {1: KeyAlgorithm.DES3, 2: KeyAlgorithm.AES128, 3: KeyAlgorithm.AES192, 4: KeyAlgorithm.AES256}
SW_OK, SW_WRONG_DATA, SW_CONDITIONS, SW_INS = 0x9000, 0x6A80, 0x6985, 0x6D00


class CardChecks:
    def __init__(self, aa_key, ca_key, rng: Rng):
        self.aa_key, self.ca_key, self.rng = aa_key, ca_key, rng
        self._ca_algorithm: KeyAlgorithm | None = None

    def internal_authenticate(self, challenge: bytes) -> tuple[int, bytes]:
        if self.aa_key is None:
            return SW_INS, b""
        if len(challenge) != 8:
            return SW_WRONG_DATA, b""
        return SW_OK, active_auth_sign(self.aa_key, challenge, self.rng)

    def set_kat(self, data: bytes) -> tuple[int, CardSecureMessaging | None]:
        """3DES chip authentication: MSE:Set KAT carries the terminal's key (tag 91)."""
        try:
            public = {n.tag: n.value for n in parse_tlv(data, max_depth=1)}[0x91]
        except (TlvError, KeyError):
            return SW_WRONG_DATA, None
        return self._agree(public, KeyAlgorithm.DES3)

    def set_at(self, data: bytes) -> int:
        try:
            oid = decode_oid({n.tag: n.value for n in parse_tlv(data, max_depth=1)}[0x80])
        except (TlvError, KeyError):
            return SW_WRONG_DATA
        prefix, _, last = oid.rpartition(".")
        if self.ca_key is None or prefix != self._ca_protocol() or int(last) not in _CA_CIPHERS:
            return SW_WRONG_DATA
        self._ca_algorithm = _CA_CIPHERS[int(last)]
        return SW_OK

    def _ca_protocol(self) -> str:
        return ID_CA_DH if isinstance(self.ca_key, DhChipKey) else ID_CA_ECDH

    def general_authenticate(self, data: bytes) -> tuple[int, bytes, CardSecureMessaging | None]:
        if self._ca_algorithm is None:
            return SW_CONDITIONS, b"", None
        try:
            public = parse_single_tlv(data, max_depth=2, expected_tag=0x7C).require(0x80).value
        except TlvError:
            return SW_WRONG_DATA, b"", None
        status, sm = self._agree(public, self._ca_algorithm)
        self._ca_algorithm = None
        return status, b"\x7c\x00" if sm else b"", sm

    def _agree(self, public: bytes, algorithm: KeyAlgorithm) -> tuple[int, CardSecureMessaging | None]:
        if self.ca_key is None:
            return SW_CONDITIONS, None
        try:
            shared = chip_auth_shared_secret(self.ca_key, public)
        except ValueError:
            return SW_WRONG_DATA, None
        kind = CipherKind.DES3 if algorithm is KeyAlgorithm.DES3 else CipherKind.AES
        keys = kdf(shared, KeyPurpose.ENC, algorithm), kdf(shared, KeyPurpose.MAC, algorithm)
        return SW_OK, CardSecureMessaging(suite_for(kind), keys[0], keys[1], 0)
