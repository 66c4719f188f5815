"""Card side of BAC and PACE (generic, integrated and chip-authentication mapping, ECDH and DH).
Each returns status words and, on success, SM keys."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from firmware_app.emrtd.bac import session_keys_sm
from firmware_app.emrtd.cipher import AesSuite, Des3Suite, pad
from firmware_app.emrtd.errors import AuthenticationError, TlvError
from firmware_app.emrtd.keys import CanKey, KeyAlgorithm, KeyPurpose, MrzKey, kdf
from firmware_app.emrtd.oid import decode_oid
from firmware_app.emrtd.pace.cam import CAM_IV_INPUT
from firmware_app.emrtd.pace.groups import group_for
from firmware_app.emrtd.pace.im import map_integrated, nonce_sizes
from firmware_app.emrtd.pace.info import INTEGRATED, Mapping, PaceInfo
from firmware_app.emrtd.pace.protocol import PASSWORD_CAN, PASSWORD_MRZ, authentication_token, suite_of
from firmware_app.emrtd.session import Rng
from firmware_app.emrtd.tlv import encode_tlv, parse_single_tlv, parse_tlv
from simulator.vchip.card_sm import CardSecureMessaging

SW_OK, SW_AUTH_FAILED, SW_CONDITIONS, SW_WRONG_DATA = 0x9000, 0x6300, 0x6985, 0x6A80


class CardBac:
    def __init__(self, key: MrzKey, rng: Rng):
        seed = key.seed()
        self.k_enc = kdf(seed, KeyPurpose.ENC, KeyAlgorithm.DES3)
        self.k_mac = kdf(seed, KeyPurpose.MAC, KeyAlgorithm.DES3)
        self.rng = rng
        self.rnd_ic: bytes | None = None

    def challenge(self) -> bytes:
        self.rnd_ic = self.rng(8)
        return self.rnd_ic

    def external_authenticate(self, data: bytes) -> tuple[bytes, CardSecureMessaging] | None:
        """Chip answer and SM keys, or None if the terminal did not prove the MRZ key."""
        suite = Des3Suite()
        if self.rnd_ic is None or len(data) != 40 or not hmac.compare_digest(
                suite.mac(self.k_mac, pad(data[:32], 8)), data[32:]):
            return None
        plain = suite.decrypt(self.k_enc, data[:32])
        if plain[8:16] != self.rnd_ic:
            return None
        rnd_ifd, k_ifd, k_ic = plain[:8], plain[16:], self.rng(16)
        cryptogram = suite.encrypt(self.k_enc, self.rnd_ic + rnd_ifd + k_ic)
        terminal = session_keys_sm(bytes(a ^ b for a, b in zip(k_ifd, k_ic)), self.rnd_ic, rnd_ifd)
        sm = CardSecureMessaging(terminal.suite, terminal._ks_enc, terminal._ks_mac, terminal.ssc)
        self.rnd_ic = None  # a challenge is good for one attempt
        return cryptogram + suite.mac(self.k_mac, pad(cryptogram, 8)), sm


@dataclass
class _PaceState:
    info: PaceInfo
    password: bytes
    nonce: bytes = b""
    group: object = None
    secret: int = 0
    pk_ic: bytes = b""
    pk_ifd: bytes = b""
    shared: bytes = b""
    map_secret: int = 0  # SK_Map,IC (CAM derives its chip authentication data from it)


class CardPace:
    """PACE (GM, IM, CAM) as the chip runs it; `offered` are the PACEInfos in EF.CardAccess."""

    def __init__(self, offered: list[PaceInfo], mrz: MrzKey, can: str | None, rng: Rng, cam_key=None):
        self.offered, self.mrz, self.can, self.rng = offered, mrz, can, rng
        self.cam_key = cam_key  # EC private key of EF.CardSecurity's chip-authentication key (CAM)
        self.state: _PaceState | None = None
        self.step = 0

    def set_at(self, data: bytes) -> int:
        try:
            fields = {n.tag: n.value for n in parse_tlv(data, max_depth=1)}
            oid, ref = decode_oid(fields[0x80]), fields[0x83]
            param = int.from_bytes(fields.get(0x84, b""), "big")
        except (TlvError, KeyError):
            return SW_WRONG_DATA
        info = next((i for i in self.offered if i.oid == oid and i.parameter_id == param), None)
        password = self._password(ref)
        if info is None or password is None:
            return SW_WRONG_DATA
        self.state, self.step = _PaceState(info, password), 1
        return SW_OK

    def _password(self, ref: bytes) -> bytes | None:
        if ref == bytes([PASSWORD_MRZ]):
            return self.mrz.pace_password()
        if ref == bytes([PASSWORD_CAN]) and self.can:
            return CanKey(self.can).pace_password()
        return None

    def general_authenticate(self, data: bytes) -> tuple[int, bytes, CardSecureMessaging | None]:
        """(SW, response data, SM when the protocol completed)."""
        state = self.state
        try:
            dyn = parse_single_tlv(data, max_depth=2, expected_tag=0x7C)
        except TlvError:
            return SW_WRONG_DATA, b"", None
        if state is None:
            return SW_CONDITIONS, b"", None
        try:
            return self._advance(state, dyn)
        except (AuthenticationError, TlvError, KeyError):
            self.state = None
            return SW_AUTH_FAILED, b"", None

    def _advance(self, state: _PaceState, dyn) -> tuple[int, bytes, CardSecureMessaging | None]:
        suite = suite_of(state.info.algorithm)
        step, self.step = self.step, self.step + 1
        if step == 1:
            state.nonce = self.rng(self._nonce_size(state.info))
            k_pi = kdf(state.password, KeyPurpose.PACE_PASSWORD, state.info.algorithm)
            return SW_OK, _dyn(0x80, suite.encrypt(k_pi, state.nonce)), None
        if step == 2:
            return self._map(state, suite, dyn.require(0x81).value)
        if step == 3:
            return self._agree(state, dyn.require(0x83).value)
        if step == 4:
            return self._tokens(state, suite, dyn.require(0x85).value)
        raise AuthenticationError("PACE", "unexpected GENERAL AUTHENTICATE")

    @staticmethod
    def _nonce_size(info: PaceInfo) -> int:
        if info.mapping in INTEGRATED:
            return nonce_sizes(info.algorithm)[0]
        return 16 if info.algorithm is not KeyAlgorithm.DES3 else 8

    def _map(self, state: _PaceState, suite, data: bytes) -> tuple[int, bytes, None]:
        base = group_for(state.info.parameter_id)
        if state.info.mapping in INTEGRATED:  # data is the terminal's nonce t; 82 answers empty
            state.group = map_integrated(base, suite, state.info.algorithm, state.nonce, data)
            return SW_OK, _dyn(0x82, b""), None
        state.map_secret = base.private_key(self.rng)
        state.group = base.mapped(int.from_bytes(state.nonce, "big"), state.map_secret, data)
        return SW_OK, _dyn(0x82, base.public_key(state.map_secret)), None

    def _agree(self, state: _PaceState, pk_ifd: bytes) -> tuple[int, bytes, None]:
        state.secret = state.group.private_key(self.rng)
        state.pk_ic = state.group.public_key(state.secret)
        state.shared = state.group.shared_secret(state.secret, pk_ifd)
        state.pk_ifd = pk_ifd
        return SW_OK, _dyn(0x84, state.pk_ic), None

    def _tokens(self, state: _PaceState, suite, token: bytes):
        algorithm = state.info.algorithm
        ks_enc, ks_mac = kdf(state.shared, KeyPurpose.ENC, algorithm), kdf(state.shared, KeyPurpose.MAC, algorithm)
        expected = authentication_token(suite, ks_mac, state.info.oid, state.group, state.pk_ic)
        if not hmac.compare_digest(expected, token):
            raise AuthenticationError("PACE", "terminal token wrong")
        own = authentication_token(suite, ks_mac, state.info.oid, state.group, state.pk_ifd)
        self.state = None
        answer = encode_tlv(0x86, own)
        if state.info.mapping is Mapping.ECDH_CAM:
            answer += encode_tlv(0x8A, self._chip_auth_data(state, ks_enc))
        return SW_OK, encode_tlv(0x7C, answer), CardSecureMessaging(suite, ks_enc, ks_mac, 0)

    def _chip_auth_data(self, state: _PaceState, ks_enc: bytes) -> bytes:
        """A_IC = E(KS_enc, CA_IC) with CA_IC = SK_IC^-1 * SK_Map,IC mod n, FE2OS-encoded."""
        if self.cam_key is None:
            raise AuthenticationError("PACE", "CAM offered without a chip-authentication key")
        n = state.group.curve.n
        sk_ic = self.cam_key.private_numbers().private_value
        ca_ic = (pow(sk_ic, -1, n) * state.map_secret % n).to_bytes((n.bit_length() + 7) // 8, "big")
        return AesSuite().encrypt(ks_enc, pad(ca_ic, 16), CAM_IV_INPUT)


def _dyn(tag: int, value: bytes) -> bytes:
    return encode_tlv(0x7C, encode_tlv(tag, value))
