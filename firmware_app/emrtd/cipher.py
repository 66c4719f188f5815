"""Block-cipher suites of ICAO 9303-11: 3DES with retail MAC, and AES with CMAC.

Both pad with ISO/IEC 9797-1 padding method 2. The suite is chosen once per session.
"""
from __future__ import annotations

import enum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from firmware_app.emrtd.errors import SecureMessagingError

MAC_SIZE = 8


class CipherKind(enum.Enum):
    DES3 = "3DES"
    AES = "AES"


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to a block boundary."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise SecureMessagingError("bad padding in decrypted data")
    return stripped[:-1]


def _cbc(algorithm, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(algorithm, modes.CBC(iv))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


def _des(key: bytes) -> TripleDES:
    """TripleDES with a 24-byte key: single DES as K|K|K, two-key 3DES as K1|K2|K1."""
    if len(key) == 8:
        return TripleDES(key * 3)
    return TripleDES(key[:16] + key[:8] if len(key) == 16 else key)


def _ecb_encrypt(algorithm, block: bytes) -> bytes:
    ctx = Cipher(algorithm, modes.ECB()).encryptor()
    return ctx.update(block) + ctx.finalize()


class Des3Suite:
    kind = CipherKind.DES3
    block_size = 8

    def encrypt(self, key: bytes, data: bytes, ssc: bytes = b"") -> bytes:
        return _cbc(_des(key), bytes(8), data, True)

    def decrypt(self, key: bytes, data: bytes, ssc: bytes = b"") -> bytes:
        return _cbc(_des(key), bytes(8), data, False)

    def mac(self, key: bytes, padded: bytes) -> bytes:
        """ISO/IEC 9797-1 MAC algorithm 3 (retail MAC) over data the caller already padded."""
        if not padded or len(padded) % 8:
            raise SecureMessagingError("retail MAC input must be whole 8-byte blocks")
        state = _cbc(_des(key[:8]), bytes(8), padded, True)[-8:]
        state = _cbc(_des(key[8:16]), bytes(8), state, False)
        return _cbc(_des(key[:8]), bytes(8), state, True)

    def token_mac(self, key: bytes, data: bytes) -> bytes:
        """PACE authentication token MAC: 3DES pads with method 2 first."""
        return self.mac(key, pad(data, 8))


class AesSuite:
    kind = CipherKind.AES
    block_size = 16

    def encrypt(self, key: bytes, data: bytes, ssc: bytes = b"") -> bytes:
        return _cbc(algorithms.AES(key), self._iv(key, ssc), data, True)

    def decrypt(self, key: bytes, data: bytes, ssc: bytes = b"") -> bytes:
        return _cbc(algorithms.AES(key), self._iv(key, ssc), data, False)

    def mac(self, key: bytes, data: bytes) -> bytes:
        """AES-CMAC truncated to 8 bytes (SM callers pad their data themselves, as 9303-11 says)."""
        mac = CMAC(algorithms.AES(key))
        mac.update(data)
        return mac.finalize()[:MAC_SIZE]

    def token_mac(self, key: bytes, data: bytes) -> bytes:
        return self.mac(key, data)

    @staticmethod
    def _iv(key: bytes, ssc: bytes) -> bytes:
        # 9303-11: for SM the IV is E(KS_enc, SSC); without an SSC (PACE nonce) it is zero
        return _ecb_encrypt(algorithms.AES(key), ssc) if ssc else bytes(16)


def suite_for(kind: CipherKind) -> Des3Suite | AesSuite:
    return Des3Suite() if kind is CipherKind.DES3 else AesSuite()
