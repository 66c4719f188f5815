"""The two PACE generic-mapping groups behind one small interface: ECDH curves and DH groups."""
from __future__ import annotations

from firmware_app.emrtd.crypto import ec
from firmware_app.emrtd.crypto.curves import Curve
from firmware_app.emrtd.crypto.dh import DhGroup
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.session import Rng
from firmware_app.emrtd.tlv import encode_tlv

TAG_EC_POINT, TAG_DH_VALUE = 0x86, 0x84


class EcdhGroup:
    def __init__(self, curve: Curve, generator: ec.Point = None):
        self.curve = curve
        self.generator = generator or ec.generator(curve)

    def private_key(self, rng: Rng) -> int:
        return _random_below(self.curve.n, rng)

    def public_key(self, secret: int) -> bytes:
        return ec.encode_point(self.curve, ec.multiply(self.curve, secret, self.generator))

    def _agree_point(self, secret: int, peer: bytes) -> tuple[int, int]:
        try:
            point = ec.multiply(self.curve, secret, ec.decode_point(self.curve, peer))
        except ec.InvalidPoint as exc:
            raise AuthenticationError("PACE", f"chip public key: {exc}") from exc
        if point is None:
            raise AuthenticationError("PACE", "key agreement gave the point at infinity")
        return point

    def shared_secret(self, secret: int, peer: bytes) -> bytes:
        return self._agree_point(secret, peer)[0].to_bytes(self.curve.size, "big")

    def mapped(self, nonce: int, secret: int, peer: bytes) -> EcdhGroup:
        """Generic mapping: G' = s*G + H with H = secret * peer."""
        h = self._agree_point(secret, peer)
        g = ec.add(self.curve, ec.multiply(self.curve, nonce, self.generator), h)
        if g is None:
            raise AuthenticationError("PACE", "mapped generator is the point at infinity")
        return EcdhGroup(self.curve, g)

    def public_key_object(self, public: bytes) -> bytes:
        return encode_tlv(TAG_EC_POINT, public)


class ModpGroup:
    def __init__(self, group: DhGroup, generator: int | None = None):
        self.group = group
        self.generator = generator or group.g

    def private_key(self, rng: Rng) -> int:
        return _random_below(self.group.q, rng)

    def public_key(self, secret: int) -> bytes:
        return pow(self.generator, secret, self.group.p).to_bytes(self.group.size, "big")

    def _check_peer(self, peer: bytes) -> int:
        value = int.from_bytes(peer, "big")
        if len(peer) > self.group.size or not self.group.in_subgroup(value):
            raise AuthenticationError("PACE", "invalid DH public value")
        return value

    def shared_secret(self, secret: int, peer: bytes) -> bytes:
        return pow(self._check_peer(peer), secret, self.group.p).to_bytes(self.group.size, "big")

    def mapped(self, nonce: int, secret: int, peer: bytes) -> ModpGroup:
        h = pow(self._check_peer(peer), secret, self.group.p)
        return ModpGroup(self.group, pow(self.generator, nonce, self.group.p) * h % self.group.p)

    def public_key_object(self, public: bytes) -> bytes:
        return encode_tlv(TAG_DH_VALUE, public)


def _random_below(order: int, rng: Rng) -> int:
    """Uniform secret in [1, order-1] by rejection sampling from the injected source."""
    size = (order.bit_length() + 7) // 8
    for _ in range(64):
        # mask to the order's bit length so that P-521 (66 bytes, 521 bits) rarely rejects
        value = int.from_bytes(rng(size), "big") & ((1 << order.bit_length()) - 1)
        if 1 <= value < order:
            return value
    raise AuthenticationError("PACE", "random source keeps giving out-of-range values")


def group_for(parameter_id: int) -> EcdhGroup | ModpGroup:
    params = STANDARD_PARAMETERS[parameter_id]
    return EcdhGroup(params) if isinstance(params, Curve) else ModpGroup(params)
